// Extraction: reads the original from the blob store, turns it into text with located sections
// (rag/extract), and keeps the result as a blob of its own, so the text never passes through
// workflow history. Unsupported, corrupt and empty files fail for good (DocumentError).
import { ApplicationFailure } from '@temporalio/common';
import { findDocument, recordExtraction } from '../../db/queries/documents.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { extractText } from '../../rag/extract/index.ts';
import { BlobNotFoundError } from '../../storage/blob-store.ts';
import { extractedKey } from '../../storage/document-keys.ts';
import { documentGone, documentScope, type DocumentActivityDeps, type VersionStep } from './scope.ts';

export interface ExtractionSummary {
  readonly format: string;
  readonly characters: number;
  readonly sections: number;
}

export function createExtractActivities({ pool, blobs }: Pick<DocumentActivityDeps, 'pool' | 'blobs'>) {
  return {
    async extractDocument(input: VersionStep): Promise<ExtractionSummary> {
      const { document, version } = input;
      const scope = documentScope(document);
      const row = await withTenant(pool, scope, (tx) => findDocument(tx, document.documentId));
      if (!row) throw documentGone(document);
      const bytes = await blobs.read(row.blobKey).catch((error: unknown) => {
        if (!(error instanceof BlobNotFoundError)) throw error;
        throw ApplicationFailure.create({
          type: 'blob_missing',
          message: 'The original of this document is missing from the blob store',
          nonRetryable: true,
        });
      });
      const extracted = await extractText({
        bytes,
        filename: row.filename ?? row.title,
        ...(row.mimeType ? { mimeType: row.mimeType } : {}),
      });
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
