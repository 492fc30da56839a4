// The vector write path, under row-level security. COPY FROM is refused for a table with RLS, so
// rows go in as batched INSERT … SELECT FROM unnest(…) and vectors as UPDATE … FROM unnest(…):
// one statement per batch, every row checked by the policy. The writes are idempotent on
// (document_id, version, ordinal), so a retried activity never duplicates a chunk.
import { sql } from 'slonik';
import { z } from 'zod';
import { toPgVector } from '../vector.ts';
import type { TextSearchConfig } from '../../contract/search.ts';
import type { TenantConnection } from '../with-tenant.ts';

/** A chunk of one version of a document, optionally with its vector. */
export interface ChunkInput {
  readonly documentId: string;
  readonly version: number;
  readonly ordinal: number;
  readonly content: string;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly page?: number | null;
  readonly heading?: string | null;
  /** The document title and nearest heading, indexed and embedded with `content` (rag/chunk.ts). */
  readonly header?: string | null;
  /** The text-search configuration `tsv` is built with; 'english' by default. */
  readonly tsConfig?: TextSearchConfig;
  /** With `embedding`: the model that made it (its dimension is the vector's length). */
  readonly embeddingModel?: string | null;
  readonly embedding?: readonly number[] | null;
}

export interface EmbeddingModel {
  readonly model: string;
  readonly dimensions: number;
}

/**
 * Inserts a batch of chunks (of one or several documents) in one statement. The tenant,
 * visibility and owner come from each document's row, so a chunk can never disagree with its
 * document. Chunks already there are left as they are; returns how many rows were new.
 */
export async function insertChunks(tx: TenantConnection, chunks: readonly ChunkInput[]): Promise<number> {
  if (chunks.length === 0) return 0;
  const rows = sql.unnest(
    chunks.map((chunk) => {
      const embedded = chunk.embedding != null && chunk.embeddingModel != null;
      return [
        chunk.documentId,
        chunk.version,
        chunk.ordinal,
        chunk.content,
        chunk.startOffset,
        chunk.endOffset,
        chunk.page ?? null,
        chunk.heading ?? null,
        chunk.header ?? null,
        chunk.tsConfig ?? 'english',
        embedded ? toPgVector(chunk.embedding) : null,
        embedded ? chunk.embeddingModel : null,
      ];
    }),
    ['uuid', 'int4', 'int4', 'text', 'int4', 'int4', 'int4', 'text', 'text', 'text', 'text', 'text'],
  );
  const result = await tx.query(sql.unsafe`
    INSERT INTO chunks (tenant_id, document_id, version, ordinal, visibility, owner_user_id, content,
                        start_offset, end_offset, page, heading, header, ts_config, embedding, embedding_model,
                        embedding_dims)
    SELECT d.tenant_id, d.id, r.version, r.ordinal, d.visibility, d.owner_user_id, r.content,
           r.start_offset, r.end_offset, r.page, r.heading, r.header, r.ts_config, r.embedding::vector,
           r.embedding_model, vector_dims(r.embedding::vector)
    FROM ${rows} AS r(document_id, version, ordinal, content, start_offset, end_offset, page, heading, header,
                      ts_config, embedding, embedding_model)
    JOIN documents d ON d.id = r.document_id
    ON CONFLICT (document_id, version, ordinal) DO NOTHING
  `);
  return result.rowCount;
}

const PendingChunk = z.object({
  id: z.uuid(),
  ordinal: z.number().int(),
  content: z.string(),
  header: z.string().nullable(),
});
export type PendingChunk = z.infer<typeof PendingChunk>;

/** The next chunks of a version still without an embedding, in document order. */
export function pendingChunks(
  tx: TenantConnection,
  target: { documentId: string; version: number },
  limit: number,
): Promise<readonly PendingChunk[]> {
  return tx.any(sql.type(PendingChunk)`
    SELECT id, ordinal, content, header FROM chunks
    WHERE document_id = ${target.documentId} AND version = ${target.version} AND embedding IS NULL
    ORDER BY ordinal
    LIMIT ${limit}
  `);
}

/** Writes a batch of vectors, with the model and dimension that made them, in one statement. */
export async function writeVectors(
  tx: TenantConnection,
  model: EmbeddingModel,
  vectors: readonly { id: string; embedding: readonly number[] }[],
): Promise<number> {
  if (vectors.length === 0) return 0;
  const rows = sql.unnest(
    vectors.map((row) => [row.id, toPgVector(row.embedding)]),
    ['uuid', 'text'],
  );
  const result = await tx.query(sql.unsafe`
    UPDATE chunks c
    SET embedding = v.embedding::vector, embedding_model = ${model.model}, embedding_dims = ${model.dimensions}
    FROM ${rows} AS v(id, embedding)
    WHERE c.id = v.id
  `);
  return result.rowCount;
}

const VersionCounts = z.object({ total: z.number().int(), embedded: z.number().int() });
export type VersionCounts = z.infer<typeof VersionCounts>;

/** How many chunks a version has, and how many of them carry an embedding. */
export function countVersionChunks(
  tx: TenantConnection,
  target: { documentId: string; version: number },
): Promise<VersionCounts> {
  return tx.one(sql.type(VersionCounts)`
    SELECT count(*) AS total, count(embedding) AS embedded FROM chunks
    WHERE document_id = ${target.documentId} AND version = ${target.version}
  `);
}

/** Records the models a version's vectors came from in embedding_models (once per tenant). */
export async function recordEmbeddingModels(
  tx: TenantConnection,
  target: { documentId: string; version: number },
): Promise<void> {
  await tx.query(sql.unsafe`
    INSERT INTO embedding_models (tenant_id, model, dimensions)
    SELECT DISTINCT tenant_id, embedding_model, embedding_dims FROM chunks
    WHERE document_id = ${target.documentId} AND version = ${target.version} AND embedding_model IS NOT NULL
    ON CONFLICT DO NOTHING
  `);
}

/** Removes the chunks of every version of the document but `keep` (all of them when null). */
export async function removeChunksExcept(
  tx: TenantConnection,
  documentId: string,
  keep: number | null,
): Promise<number> {
  const result = await tx.query(sql.unsafe`
    DELETE FROM chunks WHERE document_id = ${documentId} AND version IS DISTINCT FROM ${keep}::int4
  `);
  return result.rowCount;
}
