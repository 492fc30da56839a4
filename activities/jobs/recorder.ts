// Records job events and progress under the job's own row-level-security scope: the
// tenant's context for tenant jobs (as the user a private job belongs to, who alone may see
// it), platform scope for platform jobs.
import type { DatabasePool } from 'slonik';
import {
  earlierAttemptEvents,
  insertJobEvent,
  updateJobProgress,
  type JobEventInput,
} from '../../db/queries/job-records.ts';
import { withTenant, type TenantContext } from '../../db/with-tenant.ts';
import type { JobRef } from '../../contract/jobs.ts';
import { lateEvents, unaccountedAttempts, type PriorFailure } from './late-attempts.ts';

export function scopeOf(job: JobRef): TenantContext {
  if (!job.tenantId) return { platform: true };
  return job.privateTo ? { tenantId: job.tenantId, userId: job.privateTo } : { tenantId: job.tenantId };
}

export interface AttemptStart {
  readonly step: string;
  readonly activityId: string;
  readonly attempt: number;
}

export interface JobRecorder {
  event(job: JobRef, event: JobEventInput): Promise<void>;
  /** Several events in one transaction, in order. */
  events(job: JobRef, events: readonly JobEventInput[]): Promise<void>;
  /**
   * Records the start of an attempt; a retry first accounts for the earlier attempts that left
   * no terminal event (see late-attempts.ts), asking `priorFailure` only when there are some.
   */
  attemptStarted(job: JobRef, start: AttemptStart, priorFailure: () => Promise<PriorFailure | null>): Promise<void>;
  progress(job: JobRef, progress: Record<string, unknown>): Promise<void>;
}

export function createJobRecorder(pool: DatabasePool): JobRecorder {
  return {
    async event(job, event) {
      await withTenant(pool, scopeOf(job), (tx) => insertJobEvent(tx, job, event));
    },
    async events(job, events) {
      if (events.length === 0) return;
      await withTenant(pool, scopeOf(job), async (tx) => {
        for (const event of events) await insertJobEvent(tx, job, event);
      });
    },
    async attemptStarted(job, start, priorFailure) {
      let late: JobEventInput[] = [];
      if (start.attempt > 1) {
        const earlier = await withTenant(pool, scopeOf(job), (tx) => earlierAttemptEvents(tx, job, start));
        const gaps = unaccountedAttempts(earlier, start.attempt);
        if (gaps.length > 0) late = lateEvents(start, earlier, gaps, await priorFailure());
      }
      await withTenant(pool, scopeOf(job), async (tx) => {
        for (const event of late) await insertJobEvent(tx, job, event);
        await insertJobEvent(tx, job, { ...start, status: 'started' });
      });
    },
    async progress(job, progress) {
      await withTenant(pool, scopeOf(job), (tx) => updateJobProgress(tx, job, progress));
    },
  };
}
