// Writes to the jobs and job_events tables. Only worker activities call these: job data is
// written by activities and by nothing else. Every function takes a transaction connection
// from withTenant, so row-level security applies to each write.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import type { JobKind, JobRef, JobStatus } from '../../contract/jobs.ts';

export type JobEventStatus = 'started' | 'completed' | 'failed' | 'retrying' | 'cancelled' | 'info';

export interface JobEventInput {
  readonly step: string;
  /** Temporal's activity id, for the events of an activity attempt. */
  readonly activityId?: string | null;
  readonly status: JobEventStatus;
  readonly attempt?: number;
  readonly durationMs?: number | null;
  readonly message?: string | null;
  readonly details?: Record<string, unknown>;
}

const UpsertedJobRow = z.object({ id: z.uuid(), created: z.boolean() });

/**
 * Creates the job row for this workflow run, or finds the existing one (idempotent);
 * `created` tells whether this call inserted it. A job with `privateTo` is that user's alone
 * (the policy then needs their context to write it).
 */
export async function upsertRunningJob(
  tx: TenantConnection,
  job: JobRef,
  input: { kind: JobKind; subject: string; createdBy: string | null },
): Promise<z.infer<typeof UpsertedJobRow>> {
  return tx.one(sql.type(UpsertedJobRow)`
    INSERT INTO jobs (tenant_id, private_to, kind, subject, workflow_id, run_id, carrier_workflow_id, status,
                      created_by, started_at)
    VALUES (${job.tenantId}, ${job.privateTo ?? null}, ${input.kind}, ${input.subject}, ${job.workflowId},
            ${job.runId}, ${job.carrierWorkflowId ?? null}, 'running', ${input.createdBy}, now())
    ON CONFLICT (workflow_id, run_id) DO UPDATE SET updated_at = now()
    RETURNING id, (xmax = 0) AS created
  `);
}

/** Whether the job of this workflow run exists (and is visible). */
export async function jobExists(tx: TenantConnection, job: JobRef): Promise<boolean> {
  return tx.exists(sql.unsafe`SELECT 1 FROM jobs WHERE workflow_id = ${job.workflowId} AND run_id = ${job.runId}`);
}

/** Appends an event to the job of this workflow run; returns false when no such job is visible. */
export async function insertJobEvent(tx: TenantConnection, job: JobRef, event: JobEventInput): Promise<boolean> {
  const attempt = event.attempt ?? 1;
  const inserted = await tx.query(sql.unsafe`
    INSERT INTO job_events (job_id, tenant_id, step, activity_id, status, attempt, duration_ms, message, details)
    SELECT id, tenant_id, ${event.step}, ${event.activityId ?? null}, ${event.status}, ${attempt}, ${event.durationMs ?? null},
           ${event.message ?? null}, ${sql.jsonb((event.details ?? {}) as never)}
    FROM jobs WHERE workflow_id = ${job.workflowId} AND run_id = ${job.runId}
  `);
  if (inserted.rowCount > 0) {
    await tx.query(sql.unsafe`
      UPDATE jobs SET attempts = GREATEST(attempts, ${attempt}), updated_at = now()
      WHERE workflow_id = ${job.workflowId} AND run_id = ${job.runId}
    `);
  }
  return inserted.rowCount > 0;
}

const AttemptEventRow = z.object({ attempt: z.number().int(), statuses: z.array(z.string()) });
export type AttemptEvents = z.infer<typeof AttemptEventRow>;

/** The statuses recorded for each attempt of one activity of this workflow run before `attempt`. */
export async function earlierAttemptEvents(
  tx: TenantConnection,
  job: JobRef,
  activity: { activityId: string; attempt: number },
): Promise<readonly AttemptEvents[]> {
  return tx.any(sql.type(AttemptEventRow)`
    SELECT e.attempt, array_agg(e.status ORDER BY e.id) AS statuses
    FROM job_events e JOIN jobs j ON j.id = e.job_id
    WHERE j.workflow_id = ${job.workflowId} AND j.run_id = ${job.runId}
      AND e.activity_id = ${activity.activityId} AND e.attempt < ${activity.attempt}
    GROUP BY e.attempt ORDER BY e.attempt
  `);
}

/** Replaces the job's progress document (for example `{ done: 3, total: 10 }`). */
export async function updateJobProgress(
  tx: TenantConnection,
  job: JobRef,
  progress: Record<string, unknown>,
): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE jobs SET progress = ${sql.jsonb(progress as never)}, updated_at = now()
    WHERE workflow_id = ${job.workflowId} AND run_id = ${job.runId}
  `);
}

const JobEndRow = z.object({
  status: z.enum(['completed', 'failed', 'cancelled']),
  error: z.string().nullable(),
  durationMs: z.number().nullable(),
});

/**
 * The end of a job whose final status was written without its end event (beside its subject's
 * status, in the subject's transaction: see activities/documents/activate.ts), or null when the
 * job is not final or its end is recorded.
 */
export function unrecordedJobEnd(tx: TenantConnection, job: JobRef): Promise<z.infer<typeof JobEndRow> | null> {
  return tx.maybeOne(sql.type(JobEndRow)`
    SELECT status, error, (extract(epoch FROM (finished_at - started_at)) * 1000)::int AS "durationMs"
    FROM jobs j
    WHERE workflow_id = ${job.workflowId} AND run_id = ${job.runId} AND status IN ('completed', 'failed', 'cancelled')
      AND NOT EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = j.id AND e.step = 'job' AND e.status <> 'started')
  `);
}

/** Sets the final status. A job already final keeps its first final status. */
export async function finishJob(
  tx: TenantConnection,
  job: JobRef,
  input: { status: Extract<JobStatus, 'completed' | 'failed' | 'cancelled'>; error: string | null },
): Promise<{ durationMs: number | null } | null> {
  return tx.maybeOne(sql.type(z.object({ durationMs: z.number().nullable() }))`
    UPDATE jobs
    SET status = ${input.status}, error = ${input.error}, finished_at = now(), updated_at = now()
    WHERE workflow_id = ${job.workflowId} AND run_id = ${job.runId}
      AND status NOT IN ('completed', 'failed', 'cancelled')
    RETURNING (extract(epoch FROM (now() - started_at)) * 1000)::int AS "durationMs"
  `);
}

const StaleJobRow = z.object({
  tenantId: z.uuid().nullable(),
  privateTo: z.uuid().nullable(),
  workflowId: z.string(),
  runId: z.string(),
  carrierWorkflowId: z.string().nullable(),
});
export type StaleJob = z.infer<typeof StaleJobRow>;

/**
 * Jobs of every tenant that still say queued or running and have not moved since the
 * cutoff: candidates for reconciliation with Temporal (a narrow SECURITY DEFINER lookup). The
 * database applies its own floor and batch size over the caller's (maintenance_limits()).
 */
export async function listUnfinishedJobs(
  tx: TenantConnection,
  olderThan: Date,
  limit: number,
): Promise<readonly StaleJob[]> {
  return tx.any(sql.type(StaleJobRow)`
    SELECT tenant_id AS "tenantId", private_to AS "privateTo", workflow_id AS "workflowId", run_id AS "runId",
           carrier_workflow_id AS "carrierWorkflowId"
    FROM maintenance_unfinished_jobs(${olderThan.toISOString()}, ${limit})
  `);
}
