// Chunking: splits the extracted text (rag/chunk.ts) and writes the chunk rows of the version,
// without embeddings yet, in batched INSERT … SELECT statements. Idempotent on
// (document_id, version, ordinal): a retried attempt writes only what is missing.
import { countVersionChunks, insertChunks, type VersionCounts } from '../../db/queries/chunks.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { chunkDocument as splitIntoChunks } from '../../rag/chunk.ts';
import type { ExtractedDocument } from '../../rag/extract/document.ts';
import { extractedKey } from '../../storage/document-keys.ts';
import { documentScope, versionOf, type DocumentActivityDeps, type VersionStep } from './scope.ts';

/** Rows per INSERT statement. */
const INSERT_BATCH = 500;

export function createChunkActivities(deps: Pick<DocumentActivityDeps, 'pool' | 'blobs' | 'config'>) {
  const { pool, blobs, config } = deps;
  return {
    async chunkDocument(input: VersionStep): Promise<VersionCounts> {
      const { document, version } = input;
      const key = extractedKey(document.tenantId, document.documentId, version);
      const extracted = JSON.parse((await blobs.read(key)).toString('utf8')) as ExtractedDocument;
      const chunks = await splitIntoChunks(extracted, {
        chunkSize: config.CHUNK_SIZE,
        chunkOverlap: config.CHUNK_OVERLAP,
        maxChunks: config.MAX_CHUNKS_PER_DOCUMENT,
      });
      const scope = documentScope(document);
      for (let start = 0; start < chunks.length; start += INSERT_BATCH) {
        const rows = chunks.slice(start, start + INSERT_BATCH).map((chunk) => ({
          documentId: document.documentId,
          version,
          ordinal: chunk.index,
          content: chunk.text,
          startOffset: chunk.start,
          endOffset: chunk.end,
          page: chunk.location.page ?? null,
          heading: chunk.location.heading ?? null,
        }));
        await withTenant(pool, scope, (tx) => insertChunks(tx, rows));
      }
      return withTenant(pool, scope, (tx) => countVersionChunks(tx, versionOf(input)));
    },
  };
}
