// The vocabulary of jobs that the database, the configuration, the workflows and the workflow
// client all speak: task queues, kinds and statuses of jobs, workflow ids, and the reference every
// job activity receives. A leaf: it imports nothing of Quarry's, and runs in the workflow sandbox.

/**
 * Ingestion has a queue of its own: extraction and embedding are CPU- and provider-bound and
 * come in bursts, so ingestion workers scale (and are throttled) apart from the platform's
 * small bookkeeping jobs, which a burst of uploads must never hold up.
 */
export const TASK_QUEUES = {
  platform: 'quarry-platform',
  ingestion: 'quarry-ingestion',
} as const;

export const JOB_KINDS = ['maintenance', 'ingestion', 'document-deletion', 'reembed', 'mailbox', 'import'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The error a cancelled job records (a cancelled document keeps its own reason beside it). */
export const JOB_CANCELLED_ERROR = 'cancelled';

/** Search-attribute value for jobs that belong to the platform rather than a tenant. */
export const PLATFORM_TENANT = 'platform';

/**
 * Workflow ids are derived from the subject, so that a repeated request attaches to the
 * running job instead of starting a second one: `<kind>:<tenant|platform>:<subject>`.
 */
export function workflowIdFor(kind: JobKind, tenantId: string | null, subject: string): string {
  return `${kind}:${tenantId ?? PLATFORM_TENANT}:${subject}`;
}

/** The one mailbox workflow of a mail account: its id never changes across runs and reconnections. */
export function mailboxWorkflowId(tenantId: string, accountId: string): string {
  return workflowIdFor('mailbox', tenantId, accountId);
}

/** What every job activity receives, so that its events land on the right job row. */
export interface JobRef {
  readonly tenantId: string | null;
  /**
   * The user a job about a private subject (a private document) is private to: its row and
   * events are theirs alone, and are written in their context. Absent for the tenant's jobs.
   */
  readonly privateTo?: string | null;
  readonly workflowId: string;
  readonly runId: string;
  /**
   * The workflow whose run (`runId`) carries this job when it is not `workflowId`'s own: a
   * document of a batch import keeps a job under its ingestion workflow id, built by the
   * import's run (jobs.carrier_workflow_id).
   */
  readonly carrierWorkflowId?: string | null;
}
