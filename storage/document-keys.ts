// Where a document's blobs live: everything of one document sits below one prefix, so that
// deleting the document removes them all. The original's key carries its content hash.

/** Where every document's blobs live, below `<tenant>/<document>/`. */
export const DOCUMENTS_ROOT = 'documents';

/** The prefix of every blob of a document. */
export function documentPrefix(tenantId: string, documentId: string): string {
  return `${DOCUMENTS_ROOT}/${tenantId}/${documentId}`;
}

/** The uploaded original. */
export function originalKey(tenantId: string, documentId: string, sha256: string): string {
  return `${documentPrefix(tenantId, documentId)}/original-${sha256}`;
}

/** The text extracted from the original for one version (kept out of workflow history). */
export function extractedKey(tenantId: string, documentId: string, version: number): string {
  return `${documentPrefix(tenantId, documentId)}/v${version}.extracted.json`;
}
