// Every workflow the worker hosts, one per file.
export { maintenanceWorkflow } from './maintenance.ts';
