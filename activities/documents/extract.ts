// Extraction: reads the original from the blob store, turns it into text with located sections
// (rag/extract) in a worker thread whose memory and time are capped, and keeps the result as a
// blob of its own, so the text never passes through workflow history. Unsupported, corrupt,
// empty, too large and too slow files fail for good (DocumentError); the blob store's errors
// are transient.
import { Context } from '@temporalio/activity';
import { findDocument, recordExtraction } from '../../db/queries/documents.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { ExtractionSandbox, sandboxOptions } from '../../rag/extract/sandbox.ts';
import { BlobNotFoundError } from '../../storage/blob-store.ts';
import { extractedKey } from '../../storage/document-keys.ts';
import { FailureType, permanentFailure } from '../failure-types.ts';
import { documentGone, documentScope, type DocumentActivityDeps, type VersionStep } from './scope.ts';

export interface ExtractionSummary {
  readonly format: string;
  readonly characters: number;
  readonly sections: number;
}

export function createExtractActivities({
  pool,
  blobs,
  config,
}: Pick<DocumentActivityDeps, 'pool' | 'blobs' | 'config'>) {
  const sandbox = new ExtractionSandbox(sandboxOptions(config));
  return {
    async extractDocument(input: VersionStep): Promise<ExtractionSummary> {
      const { document, version } = input;
      const scope = documentScope(document);
      const row = await withTenant(pool, scope, (tx) => findDocument(tx, document.documentId));
      if (!row) throw documentGone(document);
      const bytes = await blobs.read(row.blobKey).catch((error: unknown) => {
        if (!(error instanceof BlobNotFoundError)) throw error;
        throw permanentFailure(
          FailureType.BLOB_MISSING,
          'The original of this document is missing from the blob store',
        );
      });
      const extracted = await sandbox.extract(
        { bytes, filename: row.filename ?? row.title, ...(row.mimeType ? { mimeType: row.mimeType } : {}) },
        // Cancelled when the worker shuts down (or a heartbeat learns of a cancellation).
        Context.current().cancellationSignal,
      );
      await blobs.put(
        extractedKey(document.tenantId, document.documentId, version),
        Buffer.from(JSON.stringify(extracted)),
      );
      await withTenant(pool, scope, (tx) =>
        recordExtraction(tx, document.documentId, { format: extracted.format, ...extracted.metadata }),
      );
      return { format: extracted.format, characters: extracted.text.length, sections: extracted.sections.length };
    },
  };
}
