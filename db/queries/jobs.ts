// Reads of the jobs table for the API. Job rows are written only by worker activities
// (job-records.ts); here they are listed and fetched within the caller's scope: the current
// tenant's jobs, plus platform jobs (tenant_id NULL) when the context has platform scope.
// The scope is repeated in the WHERE clause so the planner can use jobs_tenant_created_idx;
// the RLS policy enforces it either way.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import { JOB_STATUSES, type JobStatus } from '../../contract/jobs.ts';
import { selectPage, type Page, type PageCursor } from './pagination.ts';

export const JobRow = z.object({
  id: z.uuid(),
  tenantId: z.uuid().nullable(),
  kind: z.string(),
  subject: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  /** The workflow whose run carries the job when it is not workflowId's own (a batch document's import). */
  carrierWorkflowId: z.string().nullable(),
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

export const jobColumns = sql.fragment`
  id, tenant_id AS "tenantId", kind, subject, workflow_id AS "workflowId", run_id AS "runId",
  carrier_workflow_id AS "carrierWorkflowId", status, progress,
  error, attempts, created_by AS "createdBy", created_at AS "createdAt", started_at AS "startedAt",
  updated_at AS "updatedAt", finished_at AS "finishedAt"
`;

export interface JobScope {
  readonly tenantId: string | null;
  readonly platform: boolean;
}

function inScope(scope: JobScope) {
  return sql.fragment`(tenant_id = ${scope.tenantId} OR (${scope.platform} AND tenant_id IS NULL))`;
}

/** A page of the jobs in scope, newest first. */
export function listJobs(
  tx: TenantConnection,
  scope: JobScope,
  query: { kind?: string; status?: JobStatus; after?: PageCursor; limit: number },
): Promise<Page<JobRow>> {
  const conditions = [inScope(scope)];
  if (query.kind) conditions.push(sql.fragment`kind = ${query.kind}`);
  if (query.status) conditions.push(sql.fragment`status = ${query.status}`);
  return selectPage(tx, {
    table: 'jobs',
    row: JobRow,
    columns: jobColumns,
    conditions,
    after: query.after,
    limit: query.limit,
  });
}

export function findJob(tx: TenantConnection, scope: JobScope, id: string): Promise<JobRow | null> {
  return tx.maybeOne(sql.type(JobRow)`SELECT ${jobColumns} FROM jobs WHERE id = ${id} AND ${inScope(scope)}`);
}

/** The latest job of this kind about this subject (a mail account's latest mailbox run, say). */
export function findLatestJob(tx: TenantConnection, kind: string, subject: string): Promise<JobRow | null> {
  return tx.maybeOne(sql.type(JobRow)`
    SELECT ${jobColumns} FROM jobs WHERE kind = ${kind} AND subject = ${subject}
    ORDER BY created_at DESC, id DESC
    LIMIT 1
  `);
}
