// Records job events and progress under the job's own row-level-security scope: the
// tenant's context for tenant jobs (as the user a private job belongs to, who alone may see
// it), platform scope for platform jobs.
import type { DatabasePool } from 'slonik';
import { insertJobEvent, updateJobProgress, type JobEventInput } from '../../db/queries/job-records.ts';
import { withTenant, type TenantContext } from '../../db/with-tenant.ts';
import type { JobRef } from '../../workflows/shared.ts';

export function scopeOf(job: JobRef): TenantContext {
  if (!job.tenantId) return { platform: true };
  return job.privateTo ? { tenantId: job.tenantId, userId: job.privateTo } : { tenantId: job.tenantId };
}

export interface JobRecorder {
  event(job: JobRef, event: JobEventInput): Promise<void>;
  progress(job: JobRef, progress: Record<string, unknown>): Promise<void>;
}

export function createJobRecorder(pool: DatabasePool): JobRecorder {
  return {
    async event(job, event) {
      await withTenant(pool, scopeOf(job), (tx) => insertJobEvent(tx, job, event));
    },
    async progress(job, progress) {
      await withTenant(pool, scopeOf(job), (tx) => updateJobProgress(tx, job, progress));
    },
  };
}
