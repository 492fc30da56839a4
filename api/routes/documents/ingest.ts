// The way into ingestion for POST /v1/documents: the upload (a multipart file or JSON text) is
// staged in the blob store and hashed; content already stored in the same scope returns that
// document; otherwise the blob is committed under the new document's key and the ingestion
// workflow is started with update-with-start, which answers once its first activity has
// written the row.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcDeadlineError,
} from '@temporalio/client';
import {
  findDocument,
  findDocumentByContent,
  type DocumentRow,
  type DocumentSource,
  type NewDocument,
} from '../../../db/queries/documents.ts';
import type { StagedBlob } from '../../../storage/blob-store.ts';
import { documentPrefix, originalKey } from '../../../storage/document-keys.ts';
import { startIngestion } from '../../../temporal/documents.ts';
import type { DocumentRef, DocumentRegistration, IngestionInput } from '../../../workflows/shared.ts';
import { principalOf, tenantOf, type ApiServices, type ApiState } from '../../context.ts';
import { ConflictError, ServiceUnavailableError, ValidationError } from '../../errors.ts';
import { parseOrThrow } from '../../middleware/validate.ts';
import { serialized } from '../../schemas.ts';
import { DocumentFields } from './schema.ts';
import { receiveUpload } from './upload.ts';

/** How long an upload waits for an ingestion worker to write the document row. */
const REGISTER_TIMEOUT_MS = 30_000;

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
function titleFrom(filename: string | null): string {
  if (!filename) return 'Untitled document';
  if (filename.length <= TITLE_MAX_LENGTH) return filename;
  // Cut on a code point, never inside a surrogate pair; the ellipsis says it was cut.
  return `${Array.from(filename.slice(0, TITLE_MAX_LENGTH)).slice(0, -2).join('')}…`;
}

/** Collects the multipart fields into the shape of the JSON body (tags: repeated or comma-separated). */
function fieldsOf(fields: Readonly<Record<string, readonly string[]>>): Record<string, unknown> {
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

export async function fromMultipart(ctx: Context & { req: IncomingMessage }): Promise<IncomingDocument> {
  const { blobs, config } = ctx.services;
  const { file, fields } = await receiveUpload(ctx.req, { blobs, limitBytes: config.UPLOAD_LIMIT_BYTES });
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

/** Starts an ingestion run and waits for its registration, mapping Temporal's refusals to API errors. */
export async function register(ctx: Context, input: IngestionInput): Promise<DocumentRegistration> {
  const { temporal, config } = ctx.services;
  try {
    return await startIngestion(
      temporal,
      { ...input, heartbeatTimeoutSeconds: config.INGESTION_HEARTBEAT_TIMEOUT_SECONDS },
      { taskQueue: config.INGESTION_TASK_QUEUE, timeoutMs: REGISTER_TIMEOUT_MS },
    );
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new ConflictError('document_busy', 'The document is already being processed');
    }
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(error)) {
      // The run is started and goes ahead once an ingestion worker polls; the blob stays for it.
      throw new ServiceUnavailableError('ingestion_unavailable', 'No ingestion worker took the document in time');
    }
    throw error;
  }
}

/** Registers the staged document, or returns the one that already holds its content. */
export async function ingest(
  ctx: Context,
  incoming: IncomingDocument,
): Promise<{ status: 200 | 201; document: DocumentRow }> {
  const { tenantId, tx } = tenantOf(ctx);
  const { blob, fields } = incoming;
  const ownerUserId = actorOf(ctx);
  if (fields.visibility === 'private' && principalOf(ctx).kind !== 'user') {
    await blob.discard();
    throw new ValidationError([
      { path: 'body.visibility', message: 'Private documents need a signed-in user', code: 'custom' },
    ]);
  }
  const scope = { tenantId, visibility: fields.visibility, ownerUserId, contentSha256: blob.sha256 };
  const existing = await findDocumentByContent(tx, scope);
  if (existing) {
    await blob.discard();
    return { status: 200, document: existing };
  }

  const id = randomUUID();
  const upload: NewDocument = {
    ...scope,
    ...fields,
    id,
    source: incoming.source,
    filename: incoming.filename,
    mimeType: incoming.mimeType,
    byteSize: blob.bytes,
    blobKey: originalKey(tenantId, id, blob.sha256),
  };
  await blob.commit(upload.blobKey);
  const document = refOf({ tenantId, id, ownerUserId, visibility: fields.visibility });
  const registration = await register(ctx, { document, version: 1, upload, requestedBy: ownerUserId });
  if (registration.duplicateOf) {
    // Another upload of the same content won the race: this one's blob is not needed.
    await ctx.services.blobs.deletePrefix(documentPrefix(tenantId, id));
  }
  const row = await findDocument(tx, registration.duplicateOf ?? id);
  if (!row) throw new Error(`document ${registration.duplicateOf ?? id} is registered but not visible`);
  return { status: registration.duplicateOf ? 200 : 201, document: row };
}
