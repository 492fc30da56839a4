// The vector write path measured on its own, with the very rows an ingestion produced:
//   - the baseline: COPY … FROM STDIN (FORMAT binary) as the table owner into a copy of the chunks
//     table without row-level security (COPY into `chunks` itself is refused under RLS);
//   - INSERT … SELECT FROM unnest(…) as quarry_app under withTenant, rows with their vectors;
//   - the ingestion's own path: chunk rows first, then vectors written batch by batch.
// Each batch is its own transaction, as in the activities.
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { insertChunks, pendingChunks, writeVectors, type ChunkInput } from '../../db/queries/chunks.ts';
import { insertDocument } from '../../db/queries/documents.ts';
import { withTenant, type TenantContext } from '../../db/with-tenant.ts';
import { fromPgVector } from '../../db/vector.ts';
import { TEXT_SEARCH_CONFIGS } from '../../contract/search.ts';
import { copyBinary, type CopyColumnType } from './copy-binary.ts';

/** Rows per INSERT statement, as activities/documents/chunk.ts writes them. */
const INSERT_BATCH = 500;
export const COPY_TABLE = 'bench_chunks_copy';

export interface ProducedChunk extends Required<Omit<ChunkInput, 'page' | 'heading' | 'header'>> {
  readonly page: number | null;
  readonly heading: string | null;
  readonly header: string | null;
  readonly embedding: number[];
  readonly embeddingModel: string;
}

const ProducedRow = z.object({
  documentId: z.uuid(),
  version: z.number().int(),
  ordinal: z.number().int(),
  content: z.string(),
  startOffset: z.number().int(),
  endOffset: z.number().int(),
  page: z.number().int().nullable(),
  heading: z.string().nullable(),
  header: z.string().nullable(),
  tsConfig: z.enum(TEXT_SEARCH_CONFIGS),
  embeddingModel: z.string(),
  embedding: z.string(),
});

/** The chunks the ingestion of these documents wrote, with their vectors. */
export async function producedChunks(
  pool: DatabasePool,
  context: TenantContext,
  documentIds: readonly string[],
): Promise<ProducedChunk[]> {
  const rows = await withTenant(pool, context, (tx) =>
    tx.any(sql.type(ProducedRow)`
      SELECT document_id AS "documentId", version, ordinal, content, start_offset AS "startOffset",
             end_offset AS "endOffset", page, heading, header, ts_config AS "tsConfig",
             embedding_model AS "embeddingModel", embedding::text AS embedding
      FROM chunks WHERE document_id = ANY(${sql.array(documentIds, 'uuid')})
      ORDER BY document_id, ordinal
    `),
  );
  return rows.map((row) => ({ ...row, embedding: fromPgVector(row.embedding) }));
}

/** Creates the owner's copy of `chunks` without RLS or foreign keys, but with every index. */
export async function createCopyTable(owner: pg.Client): Promise<void> {
  await owner.query(`CREATE TABLE IF NOT EXISTS ${COPY_TABLE} (LIKE chunks INCLUDING ALL)`);
}

const COPY_COLUMNS: readonly { name: string; type: CopyColumnType }[] = [
  { name: 'id', type: 'uuid' },
  { name: 'tenant_id', type: 'uuid' },
  { name: 'document_id', type: 'uuid' },
  { name: 'version', type: 'int4' },
  { name: 'ordinal', type: 'int4' },
  { name: 'visibility', type: 'text' },
  { name: 'owner_user_id', type: 'uuid' },
  { name: 'content', type: 'text' },
  { name: 'start_offset', type: 'int4' },
  { name: 'end_offset', type: 'int4' },
  { name: 'page', type: 'int4' },
  { name: 'heading', type: 'text' },
  { name: 'header', type: 'text' },
  { name: 'ts_config', type: 'text' },
  { name: 'embedding_model', type: 'text' },
  { name: 'embedding', type: 'vector' },
  { name: 'embedding_dims', type: 'int4' },
];

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** Seconds to COPY the rows (binary) into the emptied copy table, as its owner. */
export async function copyBaseline(
  owner: pg.Client,
  scope: { tenantId: string; userId: string },
  chunks: readonly ProducedChunk[],
): Promise<number> {
  await owner.query(`TRUNCATE ${COPY_TABLE}`);
  const rows = chunks.map((chunk) => [
    randomUUID(),
    scope.tenantId,
    chunk.documentId,
    chunk.version,
    chunk.ordinal,
    'tenant',
    scope.userId,
    chunk.content,
    chunk.startOffset,
    chunk.endOffset,
    chunk.page,
    chunk.heading,
    chunk.header,
    chunk.tsConfig,
    chunk.embeddingModel,
    chunk.embedding,
    chunk.embedding.length,
  ]);
  return timed(async () => {
    const copied = await copyBinary(owner, COPY_TABLE, COPY_COLUMNS, rows);
    if (copied !== rows.length) throw new Error(`COPY wrote ${copied} of ${rows.length} rows`);
  });
}

/** Fresh document rows to write the chunks again under (as their ingestion would have registered them). */
async function shadowDocuments(
  pool: DatabasePool,
  scope: { tenantId: string; userId: string },
  chunks: readonly ProducedChunk[],
): Promise<ProducedChunk[]> {
  const ids = new Map<string, string>();
  for (const chunk of chunks) if (!ids.has(chunk.documentId)) ids.set(chunk.documentId, randomUUID());
  await withTenant(pool, scope, async (tx) => {
    for (const id of ids.values()) {
      await insertDocument(tx, {
        id,
        tenantId: scope.tenantId,
        ownerUserId: scope.userId,
        visibility: 'tenant',
        title: 'Write-path benchmark',
        description: '',
        tags: [],
        source: 'text',
        filename: null,
        mimeType: 'text/plain',
        byteSize: 0,
        contentSha256: randomBytes(32).toString('hex'),
        blobKey: `bench/${id}`,
      });
    }
  });
  return chunks.map((chunk) => ({ ...chunk, documentId: ids.get(chunk.documentId)! }));
}

async function inBatches<T>(items: readonly T[], size: number, write: (batch: readonly T[]) => Promise<unknown>) {
  for (let start = 0; start < items.length; start += size) await write(items.slice(start, start + size));
}

/** Seconds to write the rows with their vectors, INSERT … SELECT under RLS. */
export async function insertSelectPath(
  pool: DatabasePool,
  scope: { tenantId: string; userId: string },
  chunks: readonly ProducedChunk[],
): Promise<number> {
  const rows = await shadowDocuments(pool, scope, chunks);
  return timed(() =>
    inBatches(rows, INSERT_BATCH, (batch) => withTenant(pool, scope, (tx) => insertChunks(tx, batch))),
  );
}

/**
 * Seconds for the ingestion's write path under RLS: chunk rows without vectors (the chunk
 * step), then per document the pending rows and their vectors, `vectorBatch` at a time (the
 * embed step, without the embedding itself).
 */
export async function ingestionPath(
  pool: DatabasePool,
  scope: { tenantId: string; userId: string },
  chunks: readonly ProducedChunk[],
  vectorBatch: number,
): Promise<number> {
  const rows = await shadowDocuments(pool, scope, chunks);
  const model = { model: rows[0]!.embeddingModel, dimensions: rows[0]!.embedding.length };
  const vectors = new Map(rows.map((row) => [`${row.documentId}:${row.ordinal}`, row.embedding]));
  const bare = rows.map(({ embedding: _, embeddingModel: __, ...row }) => row);
  const documents = [...new Set(rows.map((row) => row.documentId))];
  return timed(async () => {
    await inBatches(bare, INSERT_BATCH, (batch) => withTenant(pool, scope, (tx) => insertChunks(tx, batch)));
    for (const documentId of documents) {
      const target = { documentId, version: 1 };
      for (;;) {
        const written = await withTenant(pool, scope, async (tx) => {
          const pending = await pendingChunks(tx, target, vectorBatch);
          return writeVectors(
            tx,
            model,
            pending.map((chunk) => ({ id: chunk.id, embedding: vectors.get(`${documentId}:${chunk.ordinal}`)! })),
          );
        });
        if (written === 0) break;
      }
    }
  });
}

/** Removes the shadow documents (their chunks go by cascade). */
export async function removeShadows(pool: DatabasePool, scope: { tenantId: string; userId: string }): Promise<void> {
  await withTenant(pool, scope, (tx) =>
    tx.query(sql.unsafe`DELETE FROM documents WHERE title = 'Write-path benchmark'`),
  );
}
