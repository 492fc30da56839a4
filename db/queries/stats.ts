// The tenant's figures for /v1/stats, as the caller may see them: the policies leave out other
// tenants and other members' private documents. Chunks are those search serves (the active
// versions' counts, kept on each document), read without scanning the chunks table. Mail is
// its user's alone: the emails and attachments counted are the caller's own (none for an API
// key, which has no user), whatever their role.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import { DOCUMENT_STATUSES, type DocumentStatus } from './documents.ts';

export const TenantStats = z.object({
  documents: z.object({
    total: z.number().int(),
    byStatus: z.record(z.enum(DOCUMENT_STATUSES), z.number().int()),
  }),
  chunks: z.number().int(),
  storageBytes: z.number().int(),
  queries: z.object({ total: z.number().int(), last24h: z.number().int() }),
  mail: z.object({
    accounts: z.number().int(),
    emails: z.number().int(),
    attachments: z.number().int(),
    attachmentsIndexed: z.number().int(),
  }),
});
export type TenantStats = z.infer<typeof TenantStats>;

const StatsRow = z.object({
  byStatus: z.record(z.string(), z.number().int()),
  chunks: z.number().int(),
  storageBytes: z.number().int(),
  queries: z.number().int(),
  recentQueries: z.number().int(),
  mailAccounts: z.number().int(),
  emails: z.number().int(),
  attachments: z.number().int(),
  attachmentsIndexed: z.number().int(),
});

export async function tenantStats(tx: TenantConnection, tenantId: string): Promise<TenantStats> {
  const row = await tx.one(sql.type(StatsRow)`
    SELECT
      (SELECT COALESCE(jsonb_object_agg(status, n), '{}'::jsonb)
         FROM (SELECT status, count(*)::int AS n FROM documents WHERE tenant_id = ${tenantId} GROUP BY status) s
      ) AS "byStatus",
      (SELECT COALESCE(sum(chunk_count), 0)::int8 FROM documents
         WHERE tenant_id = ${tenantId} AND active_version IS NOT NULL) AS chunks,
      (SELECT COALESCE(sum(byte_size), 0)::int8 FROM documents WHERE tenant_id = ${tenantId}) AS "storageBytes",
      (SELECT count(*)::int8 FROM query_log WHERE tenant_id = ${tenantId}) AS queries,
      (SELECT count(*)::int8 FROM query_log
         WHERE tenant_id = ${tenantId} AND created_at > now() - interval '24 hours') AS "recentQueries",
      (SELECT count(*)::int8 FROM mail_accounts WHERE tenant_id = ${tenantId}) AS "mailAccounts",
      (SELECT count(*)::int8 FROM emails WHERE tenant_id = ${tenantId}) AS emails,
      (SELECT count(*)::int8 FROM email_attachments WHERE tenant_id = ${tenantId}) AS attachments,
      (SELECT count(*)::int8 FROM email_attachments
         WHERE tenant_id = ${tenantId} AND status = 'indexed') AS "attachmentsIndexed"
  `);
  const byStatus = Object.fromEntries(DOCUMENT_STATUSES.map((status) => [status, row.byStatus[status] ?? 0])) as Record<
    DocumentStatus,
    number
  >;
  return {
    documents: { total: Object.values(byStatus).reduce((sum, n) => sum + n, 0), byStatus },
    chunks: row.chunks,
    storageBytes: row.storageBytes,
    queries: { total: row.queries, last24h: row.recentQueries },
    mail: {
      accounts: row.mailAccounts,
      emails: row.emails,
      attachments: row.attachments,
      attachmentsIndexed: row.attachmentsIndexed,
    },
  };
}
