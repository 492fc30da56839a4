// What a run of ingestions left behind in one tenant, to compare a run under faults with a
// fault-free run of the same documents: each document's chunks (ordinal, content hash, offsets,
// whether embedded), and what must never remain: jobs whose document does not exist, documents
// twice, blob folders that no document row owns.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { DOCUMENTS_ROOT } from '../../storage/document-keys.ts';
import type { Tenant } from './uploads.ts';

export interface Audit {
  /** Each completed document's chunks as one signature, by title. */
  readonly chunksByTitle: ReadonlyMap<string, string>;
  readonly documents: number;
  readonly completed: number;
  /** Seconds from the first document's row until 90% of the documents were completed (null: none). */
  readonly p90CompletedSeconds: number | null;
  /** Documents beyond the first of one title. */
  readonly duplicateDocuments: number;
  /** Chunk rows beyond the first of one (document, version, ordinal). */
  readonly duplicateChunkRows: number;
  /** Ingestion jobs beyond the first of one document. */
  readonly duplicateJobs: number;
  /** Jobs whose subject document does not exist. */
  readonly jobsWithoutDocument: number;
  /** Blob folders of the tenant that no document row owns. */
  readonly blobFoldersWithoutRow: number;
}

const ChunkRow = z.object({ title: z.string(), signature: z.string() });
const Counts = z.object({
  documents: z.number(),
  completed: z.number(),
  titles: z.number(),
  chunkRows: z.number(),
  chunkKeys: z.number(),
  ingestionJobs: z.number(),
  jobSubjects: z.number(),
  jobsWithoutDocument: z.number(),
  p90CompletedSeconds: z.number().nullable(),
});
const Id = z.object({ id: z.string() });

async function blobFolders(blobDir: string, tenantId: string): Promise<string[]> {
  return readdir(path.join(blobDir, DOCUMENTS_ROOT, tenantId)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
}

export async function auditTenant(pool: DatabasePool, tenant: Tenant, blobDir: string): Promise<Audit> {
  const scope = { tenantId: tenant.tenantId, userId: tenant.userId };
  const { rows, counts, ids } = await withTenant(pool, scope, async (tx) => ({
    rows: await tx.any(sql.type(ChunkRow)`
      SELECT d.title,
             string_agg(concat_ws(':', c.version, c.ordinal, md5(c.content), c.start_offset, c.end_offset,
                                  c.embedding IS NOT NULL), ' ' ORDER BY c.version, c.ordinal) AS signature
      FROM documents d JOIN chunks c ON c.document_id = d.id
      WHERE d.status = 'completed'
      GROUP BY d.id, d.title
    `),
    counts: await tx.one(sql.type(Counts)`
      SELECT (SELECT count(*)::int FROM documents) AS documents,
             (SELECT count(*)::int FROM documents WHERE status = 'completed') AS completed,
             (SELECT count(DISTINCT title)::int FROM documents) AS titles,
             (SELECT count(*)::int FROM chunks) AS "chunkRows",
             (SELECT count(DISTINCT (document_id, version, ordinal))::int FROM chunks) AS "chunkKeys",
             (SELECT count(*)::int FROM jobs WHERE kind = 'ingestion') AS "ingestionJobs",
             (SELECT count(DISTINCT subject)::int FROM jobs WHERE kind = 'ingestion') AS "jobSubjects",
             (SELECT count(*)::int FROM jobs j
               WHERE j.kind = 'ingestion'
                 AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id::text = j.subject)) AS "jobsWithoutDocument",
             (SELECT percentile_disc(0.9) WITHIN GROUP (
                       ORDER BY extract(epoch FROM updated_at - (SELECT min(created_at) FROM documents)))::float8
               FROM documents WHERE status = 'completed') AS "p90CompletedSeconds"
    `),
    ids: await tx.any(sql.type(Id)`SELECT id::text AS id FROM documents`),
  }));
  const known = new Set(ids.map((row) => row.id));
  const folders = await blobFolders(blobDir, tenant.tenantId);
  return {
    chunksByTitle: new Map(rows.map((row) => [row.title, row.signature])),
    documents: counts.documents,
    completed: counts.completed,
    p90CompletedSeconds: counts.p90CompletedSeconds,
    duplicateDocuments: counts.documents - counts.titles,
    duplicateChunkRows: counts.chunkRows - counts.chunkKeys,
    duplicateJobs: counts.ingestionJobs - counts.jobSubjects,
    jobsWithoutDocument: counts.jobsWithoutDocument,
    blobFoldersWithoutRow: folders.filter((folder) => !known.has(folder)).length,
  };
}

/** Completed documents whose chunks differ from the reference run's (the others are lost, not counted here). */
export function mismatchedDocuments(audit: Audit, reference: Audit): number {
  let mismatched = 0;
  for (const [title, signature] of audit.chunksByTitle) {
    if (reference.chunksByTitle.get(title) !== signature) mismatched++;
  }
  return mismatched;
}
