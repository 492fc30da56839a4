// Every workflow the worker hosts, one per file.
export { documentDeletionWorkflow } from './document-deletion.ts';
export { importWorkflow } from './import.ts';
export { ingestionWorkflow } from './ingestion.ts';
export { mailboxWorkflow } from './mailbox.ts';
export { maintenanceWorkflow } from './maintenance.ts';
export { reembedWorkflow } from './reembed.ts';
