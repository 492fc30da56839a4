// The first step of an ingestion run: writes the document row (an upload) or marks a new
// version as being built (a reprocess). Idempotent: a retried attempt finds the row it wrote.
// The same content already stored in the same scope makes this upload a duplicate of it. An
// upload that could not be registered leaves nothing: its blobs are discarded.
import {
  findDocument,
  findDocumentByContent,
  insertDocument,
  startVersion,
  unknownDocumentIds,
} from '../../db/queries/documents.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { documentPrefix } from '../../storage/document-keys.ts';
import type { DocumentRegistration, DocumentUpload, UploadDescription } from '../../workflows/shared.ts';
import { FailureType, permanentFailure } from '../failure-types.ts';
import { documentGone, documentScope, type DocumentActivityDeps, type VersionStep } from './scope.ts';

export interface RegisterInput extends VersionStep {
  /** What the uploader said about the new document (version 1), or null for a reprocess of a stored one. */
  readonly upload: DocumentUpload | null;
  /** For a new upload of a failed document's content: how it is now to be read (IngestionInput.reupload). */
  readonly reupload?: UploadDescription | null;
}

export function createRegisterActivities({ pool, blobs }: Pick<DocumentActivityDeps, 'pool' | 'blobs'>) {
  return {
    /**
     * After a run that never registered its upload: removes the upload's blobs, unless a
     * document of that id exists after all (then they are its own). Answers whether it removed.
     */
    async discardUpload(input: VersionStep): Promise<boolean> {
      const { tenantId, documentId } = input.document;
      const unknown = await withTenant(pool, { tenantId }, (tx) => unknownDocumentIds(tx, [documentId]));
      if (!unknown.includes(documentId)) return false;
      await blobs.deletePrefix(documentPrefix(tenantId, documentId));
      return true;
    },

    async registerDocument(input: RegisterInput): Promise<DocumentRegistration> {
      const { document, version, upload, reupload } = input;
      const registered = { documentId: document.documentId, version, duplicateOf: null };
      return withTenant(pool, documentScope(document), async (tx) => {
        if (!upload) {
          if (await startVersion(tx, document.documentId, version, reupload ?? null)) return registered;
          if (!reupload || !(await findDocument(tx, document.documentId))) throw documentGone(document);
          // Another attempt took the document up first: this one has nothing to build.
          return { ...registered, duplicateOf: document.documentId };
        }
        if ((await insertDocument(tx, upload)) || (await findDocument(tx, upload.id))) return registered;
        const duplicate = await findDocumentByContent(tx, upload);
        if (duplicate) return { ...registered, duplicateOf: duplicate.id };
        throw permanentFailure(
          FailureType.DOCUMENT_CONFLICT,
          `Document ${upload.id} conflicts with a row this context cannot see`,
        );
      });
    },
  };
}
