// Reads of the jobs table for the API. Job rows are written only by worker activities
// (job-records.ts); here they are listed and fetched within the caller's scope: the current
// tenant's jobs, plus platform jobs (tenant_id NULL) when the context has platform scope.
// The scope is repeated in the WHERE clause so the planner can use jobs_tenant_created_idx;
// the RLS policy enforces it either way.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import { JOB_STATUSES, type JobStatus } from '../../contract/jobs.ts';

export const JobRow = z.object({
  id: z.uuid(),
  tenantId: z.uuid().nullable(),
  kind: z.string(),
  subject: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  status: z.enum(JOB_STATUSES),
  progress: z.record(z.string(), z.unknown()),
  error: z.string().nullable(),
  attempts: z.number().int(),
  createdBy: z.uuid().nullable(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  updatedAt: z.date(),
  finishedAt: z.date().nullable(),
});
export type JobRow = z.infer<typeof JobRow>;

const columns = sql.fragment`
  id, tenant_id AS "tenantId", kind, subject, workflow_id AS "workflowId", run_id AS "runId", status, progress,
  error, attempts, created_by AS "createdBy", created_at AS "createdAt", started_at AS "startedAt",
  updated_at AS "updatedAt", finished_at AS "finishedAt"
`;

export interface JobScope {
  readonly tenantId: string | null;
  readonly platform: boolean;
}

/** A position in the (created_at, id) descending order; microseconds keep it exact. */
export interface JobCursor {
  readonly createdAtMicros: number;
  readonly id: string;
}

export interface JobPage {
  readonly jobs: readonly JobRow[];
  /** Where the next page starts, or null on the last page. */
  readonly next: JobCursor | null;
}

const JobListRow = JobRow.extend({ createdAtMicros: z.number().int() });

function inScope(scope: JobScope) {
  return sql.fragment`(tenant_id = ${scope.tenantId} OR (${scope.platform} AND tenant_id IS NULL))`;
}

export async function listJobs(
  tx: TenantConnection,
  scope: JobScope,
  query: { kind?: string; status?: JobStatus; after?: JobCursor; limit: number },
): Promise<JobPage> {
  const conditions = [inScope(scope)];
  if (query.kind) conditions.push(sql.fragment`kind = ${query.kind}`);
  if (query.status) conditions.push(sql.fragment`status = ${query.status}`);
  if (query.after) {
    conditions.push(sql.fragment`
      (created_at, id) < (timestamptz 'epoch' + ${query.after.createdAtMicros} * interval '1 microsecond',
                          ${query.after.id}::uuid)
    `);
  }
  const rows = await tx.any(sql.type(JobListRow)`
    SELECT ${columns}, (extract(epoch FROM created_at) * 1000000)::int8 AS "createdAtMicros"
    FROM jobs
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY created_at DESC, id DESC
    LIMIT ${query.limit + 1}
  `);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    jobs: page.map(({ createdAtMicros: _, ...job }) => job),
    next: rows.length > query.limit && last ? { createdAtMicros: last.createdAtMicros, id: last.id } : null,
  };
}

export function findJob(tx: TenantConnection, scope: JobScope, id: string): Promise<JobRow | null> {
  return tx.maybeOne(sql.type(JobRow)`SELECT ${columns} FROM jobs WHERE id = ${id} AND ${inScope(scope)}`);
}

/** The newest job of a kind about one subject (the latest ingestion of a document), if any. */
export function findLatestJob(
  tx: TenantConnection,
  query: { tenantId: string; kind: string; subject: string },
): Promise<JobRow | null> {
  return tx.maybeOne(sql.type(JobRow)`
    SELECT ${columns} FROM jobs
    WHERE tenant_id = ${query.tenantId} AND kind = ${query.kind} AND subject = ${query.subject}
    ORDER BY created_at DESC
    LIMIT 1
  `);
}
