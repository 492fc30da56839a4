// The documents table. Ingestion activities write it (job data is written by activities and by
// nothing else); the API reads it. Every function takes a withTenant transaction, so row-level
// security decides what is visible: the tenant's shared documents, and the caller's private ones.
import { sql } from 'slonik';
import { z } from 'zod';
import {
  DOCUMENT_SOURCES,
  DOCUMENT_VISIBILITIES,
  type DocumentSource,
  type DocumentVisibility,
} from '../../contract/documents.ts';
import type { TenantConnection } from '../with-tenant.ts';
import { jobColumns, JobRow } from './jobs.ts';
import { selectPage, type Page, type PageCursor } from './pagination.ts';

export const DOCUMENT_STATUSES = ['queued', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];
// The columns' vocabulary, which document jobs speak too, is contract/documents.ts.

export const DocumentRow = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  ownerUserId: z.uuid(),
  visibility: z.enum(DOCUMENT_VISIBILITIES),
  title: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  source: z.enum(DOCUMENT_SOURCES),
  filename: z.string().nullable(),
  mimeType: z.string().nullable(),
  byteSize: z.number().int(),
  contentSha256: z.string(),
  blobKey: z.string(),
  status: z.enum(DOCUMENT_STATUSES),
  error: z.string().nullable(),
  activeVersion: z.number().int().nullable(),
  latestVersion: z.number().int(),
  chunkCount: z.number().int(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type DocumentRow = z.infer<typeof DocumentRow>;

const columns = sql.fragment`
  id, tenant_id AS "tenantId", owner_user_id AS "ownerUserId", visibility, title, description, tags, source,
  filename, mime_type AS "mimeType", byte_size AS "byteSize", content_sha256 AS "contentSha256",
  blob_key AS "blobKey", status, error, active_version AS "activeVersion", latest_version AS "latestVersion",
  chunk_count AS "chunkCount", metadata, created_at AS "createdAt", updated_at AS "updatedAt"
`;

/** What the uploader said about a document, and where its bytes are. */
export interface NewDocument {
  readonly id: string;
  readonly tenantId: string;
  readonly ownerUserId: string;
  readonly visibility: DocumentVisibility;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly source: DocumentSource;
  readonly filename: string | null;
  readonly mimeType: string | null;
  readonly byteSize: number;
  readonly contentSha256: string;
  readonly blobKey: string;
}

/**
 * Inserts the document as `processing`. Returns null when it could not be inserted because a row
 * already holds its id (a retried attempt) or its content in the same scope (a duplicate).
 */
export function insertDocument(tx: TenantConnection, doc: NewDocument): Promise<DocumentRow | null> {
  return tx.maybeOne(sql.type(DocumentRow)`
    INSERT INTO documents (id, tenant_id, owner_user_id, visibility, title, description, tags, source, filename,
                           mime_type, byte_size, content_sha256, blob_key, status, latest_version)
    VALUES (${doc.id}, ${doc.tenantId}, ${doc.ownerUserId}, ${doc.visibility}, ${doc.title}, ${doc.description},
            ${sql.array(doc.tags, 'text')}, ${doc.source}, ${doc.filename}, ${doc.mimeType}, ${doc.byteSize},
            ${doc.contentSha256}, ${doc.blobKey}, 'processing', 1)
    ON CONFLICT DO NOTHING
    RETURNING ${columns}
  `);
}

export function findDocument(tx: TenantConnection, id: string): Promise<DocumentRow | null> {
  return tx.maybeOne(sql.type(DocumentRow)`SELECT ${columns} FROM documents WHERE id = ${id}`);
}

/** The visible documents of these ids, in no particular order. */
export function findDocuments(tx: TenantConnection, ids: readonly string[]): Promise<readonly DocumentRow[]> {
  return tx.any(sql.type(DocumentRow)`SELECT ${columns} FROM documents WHERE id = ANY(${sql.array([...ids], 'uuid')})`);
}

// The rows as to_json() gives them: timestamps as ISO strings, taken back into Dates.
const DocumentWithJob = z.object({
  document: DocumentRow.extend({ createdAt: z.coerce.date(), updatedAt: z.coerce.date() }),
  job: JobRow.extend({
    createdAt: z.coerce.date(),
    startedAt: z.coerce.date().nullable(),
    updatedAt: z.coerce.date(),
    finishedAt: z.coerce.date().nullable(),
  }).nullable(),
});

/**
 * The document with the latest job of `kind` about it (its latest ingestion), read in one
 * statement and so from one snapshot: an ingestion's last step writes the document's status
 * and its job's in one transaction, and a reader sees both as they were before it or both after.
 */
export function findDocumentWithLatestJob(
  tx: TenantConnection,
  id: string,
  kind: string,
): Promise<{ document: DocumentRow; job: JobRow | null } | null> {
  return tx.maybeOne(sql.type(DocumentWithJob)`
    SELECT to_json(d) AS document, to_json(j) AS job
    FROM (SELECT ${columns} FROM documents WHERE id = ${id}) d
    LEFT JOIN LATERAL (
      SELECT ${jobColumns} FROM jobs
      WHERE tenant_id = d."tenantId" AND kind = ${kind} AND subject = d.id::text
      ORDER BY created_at DESC
      LIMIT 1
    ) j ON true
  `);
}

/**
 * The document that already holds this content in the scope a new one would share: the
 * tenant's shared documents, or the owner's private ones.
 */
export function findDocumentByContent(
  tx: TenantConnection,
  scope: { tenantId: string; visibility: DocumentVisibility; ownerUserId: string; contentSha256: string },
): Promise<DocumentRow | null> {
  const owner =
    scope.visibility === 'private' ? sql.fragment`AND owner_user_id = ${scope.ownerUserId}` : sql.fragment``;
  return tx.maybeOne(sql.type(DocumentRow)`
    SELECT ${columns} FROM documents
    WHERE tenant_id = ${scope.tenantId} AND visibility = ${scope.visibility}
      AND content_sha256 = ${scope.contentSha256} ${owner}
  `);
}

/** How a document is read and shown, as a new upload of its content says it (see startVersion). */
export type DocumentDescription = Pick<
  NewDocument,
  'title' | 'description' | 'tags' | 'source' | 'filename' | 'mimeType'
>;

/**
 * Marks a new version as being built; search keeps serving the active one meanwhile. With a
 * description (a new upload of the content of a failed document), that upload's name, type and
 * fields replace the failed one's, and only a failed or cancelled document is started again.
 */
export function startVersion(
  tx: TenantConnection,
  id: string,
  version: number,
  description: DocumentDescription | null = null,
): Promise<DocumentRow | null> {
  const described = description
    ? sql.fragment`, title = ${description.title}, description = ${description.description},
        tags = ${sql.array(description.tags, 'text')}, source = ${description.source},
        filename = ${description.filename}, mime_type = ${description.mimeType}`
    : sql.fragment``;
  // A new upload's attempt starts only on the failed or cancelled version before it (or finds
  // itself processing, on retry): one that comes after another attempt took the document up
  // (it read the failed row before that attempt registered) does nothing.
  const startable = description
    ? sql.fragment`AND ((latest_version = ${version} AND status = 'processing')
        OR (latest_version = ${version - 1} AND status IN ('failed', 'cancelled')))`
    : sql.fragment``;
  return tx.maybeOne(sql.type(DocumentRow)`
    UPDATE documents
    SET status = 'processing', error = NULL, latest_version = GREATEST(latest_version, ${version}),
        updated_at = now() ${described}
    WHERE id = ${id} ${startable}
    RETURNING ${columns}
  `);
}

/** Keeps what extraction learnt about the source (format, title, pages…) beside the document. */
export async function recordExtraction(
  tx: TenantConnection,
  id: string,
  metadata: Record<string, string | number>,
): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE documents SET metadata = metadata || ${sql.jsonb(metadata)}, updated_at = now() WHERE id = ${id}
  `);
}

/**
 * Switches search to `version`: the document becomes completed with that version's chunk count.
 * Only the latest version may become active, so a stale run can never switch back.
 */
export function activateVersion(tx: TenantConnection, id: string, version: number): Promise<DocumentRow | null> {
  return tx.maybeOne(sql.type(DocumentRow)`
    UPDATE documents
    SET active_version = ${version}, status = 'completed', error = NULL, updated_at = now(),
        chunk_count = (SELECT count(*) FROM chunks WHERE document_id = ${id} AND version = ${version})
    WHERE id = ${id} AND latest_version = ${version}
    RETURNING ${columns}
  `);
}

/**
 * Ends a version's ingestion as failed or cancelled, with the reason; the active version stays.
 * Returns the version still served (null if none), or null when there was nothing to settle.
 */
export function settleDocument(
  tx: TenantConnection,
  id: string,
  outcome: { version: number; status: 'failed' | 'cancelled'; error: string },
): Promise<{ activeVersion: number | null } | null> {
  return tx.maybeOne(sql.type(z.object({ activeVersion: z.number().int().nullable() }))`
    UPDATE documents SET status = ${outcome.status}, error = ${outcome.error}, updated_at = now()
    WHERE id = ${id} AND latest_version = ${outcome.version} AND status = 'processing'
    RETURNING active_version AS "activeVersion"
  `);
}

/**
 * Ends, as failed or cancelled, the version a lost ingestion run was building (its workflow
 * closed without settling it: terminated, timed out), unless a later ingestion of the document
 * has started since; the job's reconciliation calls it in the job's transaction. Answers the
 * document settled and the version it still serves, or null.
 */
export function settleLostIngestion(
  tx: TenantConnection,
  job: { workflowId: string; runId: string },
  outcome: { status: 'failed' | 'cancelled'; error: string },
): Promise<{ id: string; activeVersion: number | null } | null> {
  return tx.maybeOne(sql.type(z.object({ id: z.uuid(), activeVersion: z.number().int().nullable() }))`
    UPDATE documents d SET status = ${outcome.status}, error = ${outcome.error}, updated_at = now()
    FROM jobs j
    WHERE j.workflow_id = ${job.workflowId} AND j.run_id = ${job.runId} AND j.kind = 'ingestion'
      AND d.tenant_id = j.tenant_id AND d.id::text = j.subject AND d.status = 'processing'
      AND NOT EXISTS (
        SELECT 1 FROM jobs later
        WHERE later.tenant_id = j.tenant_id AND later.kind = 'ingestion' AND later.subject = j.subject
          AND later.created_at > j.created_at
      )
    RETURNING d.id, d.active_version AS "activeVersion"
  `);
}

/** Removes the document; its chunks go with it (ON DELETE CASCADE). */
export async function deleteDocumentRow(tx: TenantConnection, id: string): Promise<boolean> {
  const result = await tx.query(sql.unsafe`DELETE FROM documents WHERE id = ${id}`);
  return result.rowCount > 0;
}

export interface DocumentFilters {
  readonly status?: DocumentStatus;
  readonly tag?: string;
  readonly source?: DocumentSource;
  readonly visibility?: DocumentVisibility;
  readonly createdAfter?: Date;
  readonly createdBefore?: Date;
}

/** A page of the tenant's visible documents, newest first. */
export function listDocuments(
  tx: TenantConnection,
  tenantId: string,
  query: DocumentFilters & { after?: PageCursor; limit: number },
): Promise<Page<DocumentRow>> {
  const conditions = [sql.fragment`tenant_id = ${tenantId}`];
  if (query.status) conditions.push(sql.fragment`status = ${query.status}`);
  if (query.tag) conditions.push(sql.fragment`tags @> ${sql.array([query.tag], 'text')}`);
  if (query.source) conditions.push(sql.fragment`source = ${query.source}`);
  if (query.visibility) conditions.push(sql.fragment`visibility = ${query.visibility}`);
  if (query.createdAfter) conditions.push(sql.fragment`created_at >= ${sql.timestamp(query.createdAfter)}`);
  if (query.createdBefore) conditions.push(sql.fragment`created_at < ${sql.timestamp(query.createdBefore)}`);
  return selectPage(tx, {
    table: 'documents',
    row: DocumentRow,
    columns,
    conditions,
    after: query.after,
    limit: query.limit,
  });
}

const DocumentToReembed = z.object({
  id: z.uuid(),
  ownerUserId: z.uuid(),
  visibility: z.enum(DOCUMENT_VISIBILITIES),
  latestVersion: z.number().int(),
});
export type DocumentToReembed = z.infer<typeof DocumentToReembed>;

/**
 * A page (by id) of the tenant's documents whose active version has vectors of another model or
 * dimension than `target`, private ones included (a narrow SECURITY DEFINER lookup that answers
 * ids, owners and visibility only). Documents that are processing are left to their running ingestion.
 */
export function listDocumentsToReembed(
  tx: TenantConnection,
  target: { model: string; dimensions: number },
  page: { after: string | null; limit: number },
): Promise<readonly DocumentToReembed[]> {
  return tx.any(sql.type(DocumentToReembed)`
    SELECT id, owner_user_id AS "ownerUserId", visibility, latest_version AS "latestVersion"
    FROM reembed_candidates(${target.model}, ${target.dimensions}, ${page.after}::uuid, ${page.limit})
  `);
}

/**
 * Of these ids, those that no document of the context's tenant has, private ones included
 * (a narrow definer lookup: the maintenance sweep of orphan blobs must see every owner's).
 */
export async function unknownDocumentIds(tx: TenantConnection, ids: readonly string[]): Promise<readonly string[]> {
  if (!ids.length) return [];
  return tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
    SELECT id FROM maintenance_unknown_documents(${sql.array(ids, 'uuid')})
  `);
}
