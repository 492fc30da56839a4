// Reads of a job's status history for the API (activities write it, see job-records.ts).
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';

export const JOB_EVENT_STATUSES = ['started', 'completed', 'failed', 'retrying', 'cancelled', 'info'] as const;

export const JobEventRow = z.object({
  id: z.number().int(),
  step: z.string(),
  activityId: z.string().nullable().meta({
    description: "Temporal's id of the activity the attempt belongs to (null for the job's own events)",
  }),
  status: z.enum(JOB_EVENT_STATUSES),
  attempt: z.number().int(),
  durationMs: z.number().int().nullable(),
  message: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.date(),
});
export type JobEventRow = z.infer<typeof JobEventRow>;

/** The events of a job in the order they happened. */
export function listJobEvents(tx: TenantConnection, jobId: string): Promise<readonly JobEventRow[]> {
  return tx.any(sql.type(JobEventRow)`
    SELECT id, step, activity_id AS "activityId", status, attempt, duration_ms AS "durationMs", message, details, created_at AS "createdAt"
    FROM job_events WHERE job_id = ${jobId}
    ORDER BY id
  `);
}

/** The job's last `limit` events, oldest first (a long-lived job's recent history). */
export async function listLatestJobEvents(
  tx: TenantConnection,
  jobId: string,
  limit: number,
): Promise<readonly JobEventRow[]> {
  const newest = await tx.any(sql.type(JobEventRow)`
    SELECT id, step, activity_id AS "activityId", status, attempt, duration_ms AS "durationMs", message, details, created_at AS "createdAt"
    FROM job_events WHERE job_id = ${jobId}
    ORDER BY id DESC
    LIMIT ${limit}
  `);
  return [...newest].reverse();
}
