// Bookkeeping activities every workflow reports through: the job row's start and end.
// Per-step events are written by the job-events interceptor (activities/jobs/interceptor.ts).
import type { DatabasePool } from 'slonik';
import { finishJob, insertJobEvent, unrecordedJobEnd, upsertRunningJob } from '../../db/queries/job-records.ts';
import { withTenant } from '../../db/with-tenant.ts';
import type { JobKind, JobRef } from '../../contract/jobs.ts';
import { scopeOf } from './recorder.ts';

export interface JobStartedInput {
  readonly job: JobRef;
  readonly kind: JobKind;
  readonly subject: string;
  readonly createdBy: string | null;
}

export interface JobFinishedInput {
  readonly job: JobRef;
  readonly status: 'completed' | 'failed' | 'cancelled';
  readonly error: string | null;
}

/** Activity types that are bookkeeping themselves, so the interceptor records no events for them. */
export const BOOKKEEPING_ACTIVITIES: ReadonlySet<string> = new Set(['jobStarted', 'jobFinished']);

export function createJobActivities(deps: { pool: DatabasePool }) {
  const { pool } = deps;
  return {
    /** Creates (or finds, on retry) the job row of this workflow run and records its start. */
    async jobStarted(input: JobStartedInput): Promise<string> {
      return withTenant(pool, scopeOf(input.job), async (tx) => {
        const { id, created } = await upsertRunningJob(tx, input.job, input);
        // A retried jobStarted finds the row and records no second start event.
        if (created) await insertJobEvent(tx, input.job, { step: 'job', status: 'started' });
        return id;
      });
    },

    /**
     * Sets the final status once, with the reason for a failure, and records the end event. A job
     * whose status its last step already wrote (beside its subject's, as an ingestion does) keeps
     * that status, and gets its end event here, after its steps' events.
     */
    async jobFinished(input: JobFinishedInput): Promise<void> {
      await withTenant(pool, scopeOf(input.job), async (tx) => {
        const finished = await finishJob(tx, input.job, input);
        const end = finished ? { ...input, durationMs: finished.durationMs } : await unrecordedJobEnd(tx, input.job);
        if (end) {
          await insertJobEvent(tx, input.job, {
            step: 'job',
            status: end.status,
            durationMs: end.durationMs,
            message: end.error,
          });
        }
      });
    },
  };
}
