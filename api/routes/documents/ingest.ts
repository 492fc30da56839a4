// The way into ingestion for POST /v1/documents: the upload (a multipart file or JSON text) is
// staged in the blob store and hashed; content already stored in the same scope returns that
// document (unless it failed or was cancelled: then the upload is a new attempt on it, see
// isNewAttempt); otherwise the blob is committed under the new document's key and the ingestion
// workflow is started with update-with-start, which answers once its first activity has
// written the row.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { v5 as uuidv5 } from 'uuid';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcDeadlineError,
} from '@temporalio/client';
import type { DocumentSource, DocumentVisibility } from '../../../contract/documents.ts';
import { DocumentError, UnsupportedFormatError } from '../../../rag/errors.ts';
import { charsetOf, knowsCharset } from '../../../rag/extract/decode.ts';
import { SNIFF_BYTES, identifyFormat, isTextFormat } from '../../../rag/extract/detect.ts';
import { findDocument, findDocumentByContent, type DocumentRow } from '../../../db/queries/documents.ts';
import type { StagedBlob } from '../../../storage/blob-store.ts';
import { documentPrefix, originalKey } from '../../../storage/document-keys.ts';
import { startIngestion } from '../../../workflow-client/documents.ts';
import type {
  DocumentRef,
  DocumentUpload,
  IngestionInput,
  RegistrationReply,
  UploadDescription,
} from '../../../workflows/shared.ts';
import { principalOf, tenantOf, type ApiServices, type ApiState } from '../../context.ts';
import { isTemporalUnavailable, unavailableFrom } from '../../dependency-errors.ts';
import {
  BadRequestError,
  ConflictError,
  ServiceUnavailableError,
  UnsupportedCharsetError,
  UnsupportedDocumentFormatError,
  ValidationError,
} from '../../errors.ts';
import { parseOrThrow } from '../../middleware/validate.ts';
import { serialized } from '../../schemas.ts';
import { DocumentFields } from './schema.ts';
import { receiveUpload, type DeclaredFile, type FileIdentifier } from './upload.ts';

type Context = { state: ApiState; services: ApiServices };

/** An upload staged in the blob store, with what the uploader said about it. */
export interface IncomingDocument {
  readonly blob: StagedBlob;
  readonly fields: DocumentFields & { title: string };
  readonly source: DocumentSource;
  readonly filename: string | null;
  readonly mimeType: string | null;
}

/** The id recorded as a document's owner and a job's creator: the user, or the API key. */
export function actorOf(ctx: { state: ApiState }): string {
  const principal = principalOf(ctx);
  return principal.kind === 'user' ? principal.userId : principal.apiKeyId;
}

export function refOf(document: Pick<DocumentRow, 'tenantId' | 'id' | 'ownerUserId' | 'visibility'>): DocumentRef {
  const { tenantId, id: documentId, ownerUserId, visibility } = document;
  return { tenantId, documentId, ownerUserId, visibility };
}

/** A document as the API shows it: without its blob key. */
export function presented(document: DocumentRow) {
  const { blobKey: _, ...shown } = document;
  return serialized(shown);
}

/** The most a title holds (the documents.title CHECK constraint), in characters. */
const TITLE_MAX_LENGTH = 500;

/** A title for a file sent without one: its name, cut to what a title may hold. */
export function titleFrom(filename: string | null): string {
  if (!filename) return 'Untitled document';
  if (filename.length <= TITLE_MAX_LENGTH) return filename;
  // Cut on a code point, never inside a surrogate pair; the ellipsis says it was cut.
  return `${Array.from(filename.slice(0, TITLE_MAX_LENGTH)).slice(0, -2).join('')}…`;
}

/** Collects the multipart fields into the shape of the JSON body (tags: repeated or comma-separated). */
export function fieldsOf(fields: Readonly<Record<string, readonly string[]>>): Record<string, unknown> {
  const last = (name: string) => fields[name]?.at(-1);
  const tags = fields.tags
    ?.flatMap((value) => value.split(','))
    .map((tag) => tag.trim())
    .filter(Boolean);
  return {
    ...(last('title') ? { title: last('title') } : {}),
    ...(last('description') !== undefined ? { description: last('description') } : {}),
    ...(last('visibility') ? { visibility: last('visibility') } : {}),
    ...(tags ? { tags } : {}),
  };
}

/**
 * Judges an uploaded file by its leading bytes as extraction will (rag/extract/detect.ts): a
 * format Quarry cannot ingest is refused with 415 before anything is stored, and a file is
 * stored with its detected format's media type when the client's names another (a PDF sent as
 * text/plain, or without a type). A text file keeps the charset its type declares, which
 * extraction decodes it by; one no decoder knows is refused with 415. A file that claims a format
 * its bytes do not hold (a `.pdf` that is not one) is accepted, and fails its ingestion as
 * corrupt, with the reason.
 */
export const uploadIdentifier: FileIdentifier = {
  headBytes: SNIFF_BYTES,
  async identify(head: Uint8Array, declared: DeclaredFile): Promise<string | null> {
    let identified;
    try {
      identified = await identifyFormat(head, declared.filename ?? '', declared.mimeType ?? undefined);
    } catch (error) {
      if (error instanceof UnsupportedFormatError) {
        throw new UnsupportedDocumentFormatError(error.message, {
          filename: declared.filename,
          declaredType: declared.mimeType,
          detectedType: error.detectedType ?? null,
        });
      }
      if (error instanceof DocumentError) return declared.mimeType;
      throw error;
    }
    const charset = charsetOf(identified.mediaType);
    if (isTextFormat(identified.format) && charset !== undefined && !knowsCharset(charset)) {
      throw new UnsupportedCharsetError({ filename: declared.filename, declaredType: identified.mediaType, charset });
    }
    return identified.mediaType;
  },
};

export async function fromMultipart(ctx: Context & { req: IncomingMessage }): Promise<IncomingDocument> {
  const { blobs, config } = ctx.services;
  const { file, fields } = await receiveUpload(ctx.req, {
    blobs,
    limitBytes: config.UPLOAD_LIMIT_BYTES,
    identifier: uploadIdentifier,
  });
  try {
    const parsed = parseOrThrow('body', DocumentFields, fieldsOf(fields));
    return {
      blob: file.blob,
      fields: { ...parsed, title: parsed.title ?? titleFrom(file.filename) },
      source: 'upload',
      filename: file.filename,
      mimeType: file.mimeType,
    };
  } catch (error) {
    await file.blob.discard();
    throw error;
  }
}

export async function fromText(
  ctx: Context,
  body: DocumentFields & { title: string; text: string },
): Promise<IncomingDocument> {
  const { text, ...fields } = body;
  const blob = await ctx.services.blobs.stage(Readable.from([Buffer.from(text, 'utf8')]));
  return { blob, fields, source: 'text', filename: null, mimeType: 'text/plain; charset=utf-8' };
}

/**
 * Starts an ingestion run of an original of `byteSize` bytes and waits for its registration,
 * mapping Temporal's refusals to API errors.
 */
export async function register(ctx: Context, input: IngestionInput, byteSize: number): Promise<RegistrationReply> {
  try {
    return await startRegistration(ctx, input, byteSize);
  } catch (error) {
    if (isRegistrationPending(error)) {
      // The run is started and goes ahead once an ingestion worker polls.
      throw new ServiceUnavailableError('ingestion_unavailable', 'No ingestion worker took the document in time');
    }
    throw error;
  }
}

function startRegistration(ctx: Context, input: IngestionInput, byteSize: number): Promise<RegistrationReply> {
  const { temporal, config } = ctx.services;
  return startIngestion(
    temporal,
    {
      ...input,
      heartbeatTimeoutSeconds: config.INGESTION_HEARTBEAT_TIMEOUT_SECONDS,
      oneStep: byteSize <= config.INGESTION_ONE_STEP_MAX_BYTES,
    },
    { taskQueue: config.INGESTION_TASK_QUEUE, timeoutMs: config.UPLOAD_REGISTER_WAIT_SECONDS * 1000 },
  ).catch((error: unknown) => {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new ConflictError('document_busy', 'The document is already being processed');
    }
    throw error;
  });
}

/** The run was started but no worker has registered the document yet. */
function isRegistrationPending(error: unknown): boolean {
  return error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(error);
}

/** The namespace of derived document ids (a fixed random UUID: changing it would change every id). */
const DOCUMENT_ID_NAMESPACE = '0b7e4c2e-5d1a-4f7b-9c43-6a8f1e2d3b59';

/**
 * An upload's document id, derived from what names the upload rather than drawn at random, so
 * that a client retrying it (after a 503, a timeout, a dropped connection) reaches the same
 * document and attaches to the same run instead of starting a second: from the client's
 * Idempotency-Key when it sends one (per uploader), otherwise from the content and its scope,
 * the same scope in which identical content already returns the stored document.
 */
export function uploadDocumentId(
  scope: { tenantId: string; visibility: DocumentVisibility; ownerUserId: string; contentSha256: string },
  idempotencyKey: string | null,
): string {
  const name =
    idempotencyKey === null
      ? `content:${scope.tenantId}:${scope.visibility === 'private' ? scope.ownerUserId : 'tenant'}:${scope.contentSha256}`
      : `key:${scope.tenantId}:${scope.ownerUserId}:${idempotencyKey}`;
  return uuidv5(name, DOCUMENT_ID_NAMESPACE);
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's Idempotency-Key header: null when absent, 400 when not 1–255 visible ASCII characters. */
export function idempotencyKeyOf(ctx: { get(name: string): string }): string | null {
  const key = ctx.get('Idempotency-Key');
  if (key === '') return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new BadRequestError('invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
  }
  return key;
}

/** How the upload is to be read and shown, as it says (what a new attempt replaces). */
export function descriptionOf(incoming: IncomingDocument): UploadDescription {
  const { title, description, tags } = incoming.fields;
  return {
    title,
    description,
    tags,
    source: incoming.source,
    filename: incoming.filename,
    mimeType: incoming.mimeType,
  };
}

/**
 * Whether an upload of content already stored is a new attempt at it rather than the stored
 * document: when that document failed and this upload is read otherwise (another file name or
 * type: the bytes of a docx sent as `.pdf`, then as `.docx`), or when it was cancelled. The same
 * upload again (a client's retry) is read the same way, and gets the document as it is: a
 * failed run would only fail again (reprocess retries it on purpose), and a completed or
 * processing document is the answer.
 */
export function isNewAttempt(stored: DocumentRow, upload: UploadDescription): boolean {
  if (stored.status === 'cancelled') return true;
  if (stored.status !== 'failed') return false;
  return stored.filename !== upload.filename || stored.mimeType !== upload.mimeType || stored.source !== upload.source;
}

/**
 * Starts a new ingestion run of a failed or cancelled document for an upload of its content:
 * the same document id and blob, the next version, and the upload's name, type and fields in
 * place of the failed one's. Its workflow id is the document's, so a retry of this upload while
 * the run goes on attaches to it, and once the run has registered, the document reads the way
 * the retry does and is answered as it is.
 */
export async function reattempt(
  ctx: Context & { get(name: string): string },
  stored: DocumentRow,
  blob: StagedBlob,
  reupload: UploadDescription,
): Promise<IngestOutcome> {
  const { tx } = tenantOf(ctx);
  // The same bytes under the same key: nothing doubles, and a missing original is restored.
  await blob.commit(stored.blobKey);
  const input: IngestionInput = {
    document: refOf(stored),
    version: stored.latestVersion + 1,
    upload: null,
    reupload,
    requestedBy: actorOf(ctx),
  };
  try {
    await startRegistration(ctx, input, stored.byteSize);
  } catch (error) {
    if (isRegistrationPending(error)) return { status: 202, pending: { id: stored.id } };
    throw unavailableFrom(error, { documentId: stored.id }) ?? error;
  }
  const row = await findDocument(tx, stored.id);
  if (!row) throw new Error(`document ${stored.id} was registered again but is not visible`);
  return { status: 200, document: row };
}

export type IngestOutcome =
  | { readonly status: 200 | 201; readonly document: DocumentRow }
  /** Registration is slower than UPLOAD_REGISTER_WAIT_SECONDS: the id to poll. */
  | { readonly status: 202; readonly pending: { readonly id: string } };

function keyReused(): ConflictError {
  return new ConflictError('idempotency_key_reused', 'This Idempotency-Key was used for an upload of other content');
}

/**
 * Registers the staged document, or returns the one that already holds its content. The
 * Idempotency-Key is the request's unless given (a file of a batch has none of its own).
 */
export async function ingest(
  ctx: Context & { get(name: string): string },
  incoming: IncomingDocument,
  options: { idempotencyKey?: string | null } = {},
): Promise<IngestOutcome> {
  const { tenantId, tx } = tenantOf(ctx);
  const { blob, fields } = incoming;
  const { blobs } = ctx.services;
  const ownerUserId = actorOf(ctx);
  let key: string | null;
  try {
    key = options.idempotencyKey !== undefined ? options.idempotencyKey : idempotencyKeyOf(ctx);
    if (fields.visibility === 'private' && principalOf(ctx).kind !== 'user') {
      throw new ValidationError([
        { path: 'body.visibility', message: 'Private documents need a signed-in user', code: 'custom' },
      ]);
    }
  } catch (error) {
    await blob.discard();
    throw error;
  }
  const scope = { tenantId, visibility: fields.visibility, ownerUserId, contentSha256: blob.sha256 };
  const id = uploadDocumentId(scope, key);
  const [prior, existing] = [await findDocument(tx, id), await findDocumentByContent(tx, scope)];
  if (prior && prior.contentSha256 !== blob.sha256) {
    await blob.discard();
    throw keyReused();
  }
  const stored = prior ?? existing;
  if (stored) {
    const description = descriptionOf(incoming);
    // The same Idempotency-Key names the same upload, which never starts a second attempt.
    const namedByKey = key !== null && prior !== null;
    if (!namedByKey && isNewAttempt(stored, description)) return reattempt(ctx, stored, blob, description);
    await blob.discard();
    return { status: 200, document: stored };
  }

  const upload: DocumentUpload = {
    ...scope,
    ...fields,
    id,
    source: incoming.source,
    filename: incoming.filename,
    mimeType: incoming.mimeType,
    byteSize: blob.bytes,
    blobKey: originalKey(tenantId, id, blob.sha256),
  };
  // A retry commits the same bytes under the same key: nothing doubles.
  await blob.commit(upload.blobKey);
  const document = refOf({ tenantId, id, ownerUserId, visibility: fields.visibility });
  let registration: RegistrationReply;
  try {
    registration = await startRegistration(
      ctx,
      { document, version: 1, upload, requestedBy: ownerUserId },
      upload.byteSize,
    );
  } catch (error) {
    if (isRegistrationPending(error)) return { status: 202, pending: { id } };
    // Temporal may have started the run before it became unreachable; the row tells.
    const registered = isTemporalUnavailable(error) ? await findDocument(tx, id).catch(() => null) : null;
    if (registered) return { status: 201, document: registered };
    // The answer names the document all the same: a retry of the same upload reaches this id
    // and reuses the committed blob (the orphan-blob sweep removes it if none comes).
    throw unavailableFrom(error, { documentId: id }) ?? error;
  }
  if (registration.duplicateOf) {
    // Another upload of the same content (under another Idempotency-Key) won the race.
    await blobs.deletePrefix(documentPrefix(tenantId, id));
  }
  const row = await findDocument(tx, registration.duplicateOf ?? id);
  if (!row) throw new Error(`document ${registration.duplicateOf ?? id} is registered but not visible`);
  if (row.id === id && row.contentSha256 !== blob.sha256) {
    // The key's first upload, of other content, was still running: this one's bytes are not needed.
    await blobs.delete(upload.blobKey);
    throw keyReused();
  }
  // Only the request that started the run created the document; a retry attached to it.
  return { status: registration.duplicateOf || registration.attached ? 200 : 201, document: row };
}
