// Starting the maintenance workflow: on demand (the API) and on a Temporal Schedule that
// the worker creates at start-up when it is missing. Both name the workflow function.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { JobKindKey, JobStatusKey, TenantIdKey } from '../contract/search-attributes.ts';
import { PLATFORM_TENANT, TASK_QUEUES, workflowIdFor } from '../contract/jobs.ts';
import { maintenanceWorkflow } from '../workflows/index.ts';
import { MAINTENANCE_SCHEDULE_ID, MAINTENANCE_SUBJECT } from '../workflows/shared.ts';

const searchAttributes = [
  { key: TenantIdKey, value: PLATFORM_TENANT },
  { key: JobKindKey, value: 'maintenance' },
  { key: JobStatusKey, value: 'queued' },
];

/**
 * Starts a maintenance run, or attaches to the one already running: the workflow id is
 * derived from the subject, so a repeated request does not start a second run.
 */
export async function startMaintenanceJob(
  client: Client,
  input: { requestedBy: string; reconcileAfterMinutes?: number },
  options: { taskQueue?: string; subject?: string } = {},
): Promise<{ workflowId: string; runId: string }> {
  const handle = await client.workflow.start(maintenanceWorkflow, {
    taskQueue: options.taskQueue ?? TASK_QUEUES.platform,
    workflowId: workflowIdFor('maintenance', null, options.subject ?? `${MAINTENANCE_SUBJECT}-manual`),
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [input],
    typedSearchAttributes: searchAttributes,
  });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}

/** Creates the maintenance schedule if it does not exist; an existing one is left as it is. */
export async function ensureMaintenanceSchedule(
  client: Client,
  options: { intervalMinutes: number; taskQueue?: string },
): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId: MAINTENANCE_SCHEDULE_ID,
      spec: { intervals: [{ every: `${options.intervalMinutes} minutes` }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
      action: {
        type: 'startWorkflow',
        workflowType: maintenanceWorkflow,
        workflowId: workflowIdFor('maintenance', null, `${MAINTENANCE_SUBJECT}-scheduled`),
        taskQueue: options.taskQueue ?? TASK_QUEUES.platform,
        args: [{}],
        typedSearchAttributes: searchAttributes,
      },
    });
    return 'created';
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return 'exists';
    throw error;
  }
}
