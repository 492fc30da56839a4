// Document deletion: first stop a running ingestion (cancel it and wait until it has cleaned
// up, so nothing writes after the delete), then remove the row (its chunks and vectors go by
// cascade) and every blob of the document.
import { deleteDocumentRow } from '../../db/queries/documents.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { documentPrefix } from '../../storage/document-keys.ts';
import { cancelIngestion } from '../../workflow-client/ingestion-handle.ts';
import type { JobRef } from '../../contract/jobs.ts';
import type { DocumentRef } from '../../workflows/shared.ts';
import { whileHeartbeating } from '../heartbeat.ts';
import { documentScope, type DocumentActivityDeps } from './scope.ts';

export interface DocumentJobInput {
  readonly job: JobRef;
  readonly document: DocumentRef;
}

export function createDeleteActivities(deps: Pick<DocumentActivityDeps, 'pool' | 'blobs' | 'temporal'>) {
  const { pool, blobs, temporal } = deps;
  return {
    /** Cancels the document's ingestion if it is running and waits for it to close. */
    async stopIngestion({ document }: DocumentJobInput): Promise<boolean> {
      return whileHeartbeating(() => cancelIngestion(temporal, document));
    },

    /** Removes the document row, its chunks and vectors, and its blobs. */
    async deleteDocument({ document }: DocumentJobInput): Promise<boolean> {
      const deleted = await withTenant(pool, documentScope(document), (tx) =>
        deleteDocumentRow(tx, document.documentId),
      );
      await blobs.deletePrefix(documentPrefix(document.tenantId, document.documentId));
      return deleted;
    },
  };
}
