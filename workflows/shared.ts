// Definitions shared by workflows, the worker and the API: task queues, job kinds,
// workflow-id derivation, and the input and result types of each workflow.
// Signals, updates and queries are defined here once, at module level.

export const TASK_QUEUES = {
  platform: 'quarry-platform',
} as const;

export const JOB_KINDS = ['maintenance'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Search-attribute value for jobs that belong to the platform rather than a tenant. */
export const PLATFORM_TENANT = 'platform';

/**
 * Workflow ids are derived from the subject, so that a repeated request attaches to the
 * running job instead of starting a second one: `<kind>:<tenant|platform>:<subject>`.
 */
export function workflowIdFor(kind: JobKind, tenantId: string | null, subject: string): string {
  return `${kind}:${tenantId ?? PLATFORM_TENANT}:${subject}`;
}

/** What every job activity receives, so that its events land on the right job row. */
export interface JobRef {
  readonly tenantId: string | null;
  readonly workflowId: string;
  readonly runId: string;
}

export const MAINTENANCE_SCHEDULE_ID = 'quarry-maintenance';
export const MAINTENANCE_SUBJECT = 'cleanup';

export interface MaintenanceInput {
  /** The platform admin who asked for this run; absent for scheduled runs. */
  readonly requestedBy?: string | null;
  /** Sessions and API keys expired or revoked longer ago than this are removed. */
  readonly retentionDays: number;
  /** Unfinished jobs that have not moved for this long are checked against Temporal (default 15). */
  readonly reconcileAfterMinutes?: number;
}

export interface MaintenanceResult {
  readonly sessionsRemoved: number;
  readonly apiKeysRemoved: number;
  readonly jobsReconciled: number;
}
