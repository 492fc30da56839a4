// Searchable documents written straight into the tables, through the same queries the
// ingestion activities use (insert the document, write its chunks with their vectors, activate
// the version), on the runtime role's pool under the tenant's context. Search tests and the
// search benchmark use it so that they depend on the tables, not on the ingestion workflow.
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { insertChunks, type ChunkInput } from '../../db/queries/chunks.ts';
import type { DocumentSource } from '../../contract/documents.ts';
import { activateVersion, insertDocument } from '../../db/queries/documents.ts';
import type { TenantConnection } from '../../db/with-tenant.ts';
import type { Embedder } from '../../rag/embed/embedder.ts';

export interface DocumentSeed {
  readonly title: string;
  readonly ownerUserId: string;
  readonly visibility?: 'tenant' | 'private';
  readonly tags?: readonly string[];
  readonly source?: DocumentSource;
  readonly byteSize?: number;
}

/** Inserts a document as an upload leaves it (processing, version 1); returns its id. */
export async function createDocument(tx: TenantConnection, tenantId: string, seed: DocumentSeed): Promise<string> {
  const id = randomUUID();
  const row = await insertDocument(tx, {
    id,
    tenantId,
    ownerUserId: seed.ownerUserId,
    visibility: seed.visibility ?? 'tenant',
    title: seed.title,
    description: '',
    tags: [...(seed.tags ?? [])],
    source: seed.source ?? 'text',
    filename: null,
    mimeType: 'text/plain',
    byteSize: seed.byteSize ?? 1000,
    contentSha256: createHash('sha256').update(id).digest('hex'),
    blobKey: `fixtures/${id}`,
  });
  if (!row) throw new Error(`document ${id} was not inserted`);
  return id;
}

export interface ChunkSeed {
  readonly content: string;
  readonly page?: number;
  readonly heading?: string;
}

export interface VersionChunks {
  readonly documentId: string;
  readonly version: number;
  readonly model: string;
  readonly chunks: readonly ChunkSeed[];
  readonly vectors: readonly (readonly number[])[];
}

/** The rows of consecutive chunks of one version, two characters apart, with their vectors. */
export function chunkRows(input: VersionChunks): ChunkInput[] {
  let offset = 0;
  return input.chunks.map((chunk, ordinal) => {
    const startOffset = offset;
    offset += chunk.content.length + 2;
    return {
      documentId: input.documentId,
      version: input.version,
      ordinal,
      content: chunk.content,
      startOffset,
      endOffset: startOffset + chunk.content.length,
      page: chunk.page,
      heading: chunk.heading,
      embeddingModel: input.model,
      embedding: input.vectors[ordinal],
    };
  });
}

/** Writes the chunks of one version with the given vectors; returns their ids in order. */
export async function writeChunks(tx: TenantConnection, input: VersionChunks): Promise<string[]> {
  await insertChunks(tx, chunkRows(input));
  const ids = await tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
    SELECT id FROM chunks WHERE document_id = ${input.documentId} AND version = ${input.version} ORDER BY ordinal
  `);
  return [...ids];
}

/** Embeds and writes the chunks of a version. */
export async function writeEmbeddedChunks(
  tx: TenantConnection,
  embedder: Embedder,
  input: { documentId: string; version: number; chunks: readonly ChunkSeed[] },
): Promise<string[]> {
  const vectors = await embedder.embed(input.chunks.map((chunk) => chunk.content));
  return writeChunks(tx, { ...input, model: embedder.model, vectors });
}

/** Makes the version the one search serves, as the ingestion workflow's last step does. */
export async function activate(tx: TenantConnection, documentId: string, version: number): Promise<void> {
  if (!(await activateVersion(tx, documentId, version))) throw new Error(`version ${version} was not activated`);
}

export interface SeededDocument {
  readonly documentId: string;
  readonly chunkIds: readonly string[];
}

/** A completed, searchable document: inserted, its chunks embedded and written, version 1 active. */
export async function seedDocument(
  tx: TenantConnection,
  embedder: Embedder,
  tenantId: string,
  seed: DocumentSeed & { chunks: readonly ChunkSeed[] },
): Promise<SeededDocument> {
  const documentId = await createDocument(tx, tenantId, seed);
  const chunkIds = await writeEmbeddedChunks(tx, embedder, { documentId, version: 1, chunks: seed.chunks });
  await activate(tx, documentId, 1);
  return { documentId, chunkIds };
}
