// The failure catalogue of the activity layer: the type of every ApplicationFailure that an
// activity, or the workflow of its job, raises on purpose. Each is permanent: no retry can mend
// it, so the job fails at once with the failure's message as its error. Workflows import this
// module as a value, so it imports nothing but @temporalio/common.
//
// Two more families of type reach Temporal through toActivityFailure (failures.ts): the codes of
// the RAG layer's errors (rag/errors.ts), and `postgres_<SQLSTATE>` or a Slonik error class name
// for a database error that no retry can mend.
import { ApplicationFailure } from '@temporalio/common';

export const FailureType = {
  /** Thrown when the document a step works on no longer exists (it was deleted meanwhile). */
  DOCUMENT_GONE: 'document_gone',
  /** Thrown when a document's original is missing from the blob store, so it cannot be extracted. */
  BLOB_MISSING: 'blob_missing',
  /** Thrown when a version is to be activated while some of its chunks have no embedding. */
  VERSION_INCOMPLETE: 'version_incomplete',
  /** Thrown when an upload's document id is taken by a row the registering context cannot see. */
  DOCUMENT_CONFLICT: 'document_conflict',
  /** Thrown when a re-embed job asks for another model or dimension than the worker embeds with. */
  EMBEDDER_MISMATCH: 'embedder_mismatch',
  /** Thrown when a re-embed job had documents to re-embed and could re-embed none of them. */
  REEMBED_FAILED: 'reembed_failed',
  /** Thrown when a mailbox step runs on a worker without TOKEN_ENCRYPTION_KEY, so no grant can be opened. */
  MAIL_NOT_CONFIGURED: 'mail_not_configured',
  /** Thrown when Google refuses the account's grant (invalid_grant): its user must connect it again. */
  MAIL_NEEDS_REAUTH: 'mail_needs_reauth',
  /** Thrown when Gmail no longer has the history an incremental sync starts from (its 404). */
  MAIL_HISTORY_EXPIRED: 'mail_history_expired',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** A failure of a catalogued type that Temporal does not retry: the job fails with `message`. */
export function permanentFailure(type: FailureType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
