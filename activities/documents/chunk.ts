// Chunking: splits the extracted text (rag/chunk.ts) and writes the chunk rows of the version,
// without embeddings yet, in batched INSERT … SELECT statements. Each chunk carries the
// contextual header made of the document's title and its heading, and the text-search
// configuration of the document's language. Idempotent on (document_id, version, ordinal): a
// retried attempt writes only what is missing.
import { countVersionChunks, insertChunks, type VersionCounts } from '../../db/queries/chunks.ts';
import { findDocument } from '../../db/queries/documents.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { chunkDocument as splitIntoChunks } from '../../rag/chunk.ts';
import type { ExtractedDocument } from '../../rag/extract/document.ts';
import { textSearchConfigOf } from '../../rag/text/language.ts';
import { extractedKey } from '../../storage/document-keys.ts';
import { documentScope, versionOf, type DocumentActivityDeps, type VersionStep } from './scope.ts';

/** Rows per INSERT statement. */
const INSERT_BATCH = 500;

export function createChunkActivities(deps: Pick<DocumentActivityDeps, 'pool' | 'blobs' | 'config'>) {
  const { pool, blobs, config } = deps;
  return {
    async chunkDocument(input: VersionStep): Promise<VersionCounts> {
      const { document, version } = input;
      const scope = documentScope(document);
      // A document deleted meanwhile gets no rows: insertChunks finds no document to join.
      const row = await withTenant(pool, scope, (tx) => findDocument(tx, document.documentId));
      const key = extractedKey(document.tenantId, document.documentId, version);
      const extracted = JSON.parse((await blobs.read(key)).toString('utf8')) as ExtractedDocument;
      const chunks = await splitIntoChunks(
        { ...extracted, ...(row ? { title: row.title } : {}) },
        { chunkSize: config.CHUNK_SIZE, chunkOverlap: config.CHUNK_OVERLAP, maxChunks: config.MAX_CHUNKS_PER_DOCUMENT },
      );
      const tsConfig = textSearchConfigOf(extracted.text);
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
          header: chunk.header,
          tsConfig,
        }));
        await withTenant(pool, scope, (tx) => insertChunks(tx, rows));
      }
      return withTenant(pool, scope, (tx) => countVersionChunks(tx, versionOf(input)));
    },
  };
}
