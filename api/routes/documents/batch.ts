// POST /v1/documents/batch: many files in one request. Each file is staged and judged as a single
// upload's is, and answered on its own: refused (with the error code a single upload would get),
// an existing document (the same content in the same scope), or a new document. The new small
// ones (up to INGESTION_ONE_STEP_MAX_BYTES) are built by one import workflow that they share
// (workflows/import.ts), which is what makes a batch of abstracts fast; a larger file gets an
// ingestion run of its own, as if uploaded alone. Every document keeps its own status, job and
// step history either way.
import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { WorkflowUpdateRPCTimeoutOrCancelledError, isGrpcDeadlineError } from '@temporalio/client';
import { findDocuments, type DocumentRow } from '../../../db/queries/documents.ts';
import { documentPrefix, originalKey } from '../../../storage/document-keys.ts';
import { importWorkflowId, startImport } from '../../../workflow-client/documents.ts';
import type { DocumentUpload } from '../../../workflows/shared.ts';
import { principalOf, tenantOf } from '../../context.ts';
import { unavailableFrom } from '../../dependency-errors.ts';
import { ApiError, ValidationError } from '../../errors.ts';
import { parseOrThrow } from '../../middleware/validate.ts';
import type { RouteContext } from '../../context.ts';
import {
  actorOf,
  descriptionOf,
  fieldsOf,
  idempotencyKeyOf,
  ingest,
  isNewAttempt,
  presented,
  reattempt,
  titleFrom,
  uploadDocumentId,
  uploadIdentifier,
  type IncomingDocument,
  type IngestOutcome,
} from './ingest.ts';
import { BatchFields, type BatchItem, type BatchResult, type CreateBatch } from './schema.ts';
import { receiveBatch } from './upload.ts';

/** The namespace of batch ids derived from an Idempotency-Key (fixed: changing it would change every id). */
const BATCH_ID_NAMESPACE = '5d0f3a7e-2c41-4e8b-a6f9-1b7d3e9c0a24';

function refusal(index: number, filename: string | null, error: unknown): BatchItem {
  if (!(error instanceof ApiError)) throw error;
  return {
    index,
    filename,
    outcome: 'refused',
    error: { status: error.status, code: error.code, message: error.message, details: error.details },
  };
}

function fromOutcome(index: number, filename: string | null, outcome: IngestOutcome): BatchItem {
  if (outcome.status === 202) return { index, filename, outcome: 'queued', id: outcome.pending.id };
  return {
    index,
    filename,
    outcome: outcome.status === 201 ? 'created' : 'existing',
    document: presented(outcome.document),
  };
}

export async function createBatch(ctx: RouteContext<typeof CreateBatch>) {
  const { blobs, config, temporal } = ctx.services;
  const { tenantId, tx } = tenantOf(ctx);
  const { files, fields } = await receiveBatch(ctx.req, {
    blobs,
    limitBytes: config.UPLOAD_LIMIT_BYTES,
    identifier: uploadIdentifier,
    maxFiles: config.BATCH_UPLOAD_MAX_FILES,
  });
  const staged = files.flatMap((part) => (part.file ? [part.file] : []));
  let shared: BatchFields;
  let key: string | null;
  try {
    shared = parseOrThrow('body', BatchFields, fieldsOf(fields));
    key = idempotencyKeyOf(ctx);
    if (shared.visibility === 'private' && principalOf(ctx).kind !== 'user') {
      throw new ValidationError([
        { path: 'body.visibility', message: 'Private documents need a signed-in user', code: 'custom' },
      ]);
    }
  } catch (error) {
    await Promise.all(staged.map((file) => file.blob.discard()));
    throw error;
  }
  const ownerUserId = actorOf(ctx);
  const batchId = key === null ? randomUUID() : uuidv5(`batch:${tenantId}:${ownerUserId}:${key}`, BATCH_ID_NAMESPACE);

  const items: (BatchItem | null)[] = files.map(() => null);
  const incoming = files.map((part): IncomingDocument | null =>
    part.file
      ? {
          blob: part.file.blob,
          fields: { ...shared, title: titleFrom(part.file.filename) },
          source: 'upload',
          filename: part.file.filename,
          mimeType: part.file.mimeType,
        }
      : null,
  );
  files.forEach((part, index) => {
    if (!part.file) items[index] = refusal(index, part.declared.filename, part.refusal);
  });

  // The small new files, by document id (content and scope name it, as for a single upload).
  const scopeOf = (document: IncomingDocument) => ({
    tenantId,
    visibility: shared.visibility,
    ownerUserId,
    contentSha256: document.blob.sha256,
  });
  const small = incoming.flatMap((document, index) =>
    document && document.blob.bytes <= config.INGESTION_ONE_STEP_MAX_BYTES
      ? [{ index, document, id: uploadDocumentId(scopeOf(document), null) }]
      : [],
  );
  const stored = new Map(
    (
      await findDocuments(
        tx,
        small.map(({ id }) => id),
      )
    ).map((row) => [row.id, row]),
  );
  const uploads: DocumentUpload[] = [];
  /** Each upload's file index. */
  const uploadIndex: number[] = [];
  const firstOf = new Map<string, number>();
  for (const { index, document, id } of small) {
    const earlier = firstOf.get(id);
    const row = stored.get(id);
    if (earlier !== undefined) {
      // The same content twice in one batch: one document.
      await document.blob.discard();
      items[index] = { index, filename: document.filename, outcome: 'duplicate', of: earlier };
    } else if (row) {
      firstOf.set(id, index);
      items[index] = await existing(ctx, index, document, row);
    } else {
      firstOf.set(id, index);
      const upload: DocumentUpload = {
        ...scopeOf(document),
        ...document.fields,
        id,
        source: document.source,
        filename: document.filename,
        mimeType: document.mimeType,
        byteSize: document.blob.bytes,
        blobKey: originalKey(tenantId, id, document.blob.sha256),
      };
      await document.blob.commit(upload.blobKey);
      uploads.push(upload);
      uploadIndex.push(index);
    }
  }

  // Larger files: a run each, as if uploaded alone.
  for (const [index, document] of incoming.entries()) {
    if (!document || items[index] || small.some((entry) => entry.index === index)) continue;
    try {
      items[index] = fromOutcome(index, document.filename, await ingest(ctx, document, { idempotencyKey: null }));
    } catch (error) {
      items[index] = refusal(index, document.filename, unavailableFrom(error, { documentId: null }) ?? error);
    }
  }

  if (uploads.length > 0) {
    let registrations;
    try {
      registrations = await startImport(
        temporal,
        {
          batchId,
          tenantId,
          ownerUserId,
          visibility: shared.visibility,
          uploads,
          requestedBy: ownerUserId,
          heartbeatTimeoutSeconds: config.INGESTION_HEARTBEAT_TIMEOUT_SECONDS,
        },
        { taskQueue: config.INGESTION_TASK_QUEUE, timeoutMs: config.UPLOAD_REGISTER_WAIT_SECONDS * 1000 },
      );
    } catch (error) {
      if (!(error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(error))) {
        // The committed blobs stay for a retry under the same Idempotency-Key (the orphan-blob
        // sweep removes them if none comes).
        throw unavailableFrom(error, { batchId }) ?? error;
      }
      // Started, and registered once an ingestion worker polls.
      registrations = null;
    }
    const rows = registrations
      ? new Map(
          (
            await findDocuments(
              tx,
              registrations.map((r) => r.duplicateOf ?? r.documentId),
            )
          ).map((row) => [row.id, row]),
        )
      : new Map<string, DocumentRow>();
    for (const [position, registration] of (registrations ?? []).entries()) {
      // Another upload of the same content won: this one's blob is not needed.
      if (registration.duplicateOf) await blobs.deletePrefix(documentPrefix(tenantId, uploads[position]!.id));
    }
    uploads.forEach((upload, position) => {
      const index = uploadIndex[position]!;
      const registration = registrations?.[position];
      const row = rows.get(registration?.duplicateOf ?? upload.id);
      items[index] =
        registration && row
          ? {
              index,
              filename: upload.filename,
              outcome: registration.duplicateOf ? 'existing' : 'created',
              document: presented(row),
            }
          : { index, filename: upload.filename, outcome: 'queued', id: upload.id };
    });
  }

  const documents = items.map((item, index) => item ?? { index, filename: null, outcome: 'queued' as const });
  ctx.status = documents.some((item) => item.outcome === 'created' || item.outcome === 'queued') ? 201 : 200;
  ctx.body = {
    batch: { id: batchId, workflowId: uploads.length > 0 ? importWorkflowId(tenantId, batchId) : null },
    documents,
  } satisfies BatchResult;
}

/** A file whose content is a stored document: that document, or a new attempt at it if it failed. */
async function existing(
  ctx: RouteContext<typeof CreateBatch>,
  index: number,
  document: IncomingDocument,
  row: DocumentRow,
): Promise<BatchItem> {
  const description = descriptionOf(document);
  if (isNewAttempt(row, description)) {
    try {
      return fromOutcome(index, document.filename, await reattempt(ctx, row, document.blob, description));
    } catch (error) {
      return refusal(index, document.filename, error);
    }
  }
  await document.blob.discard();
  return { index, filename: document.filename, outcome: 'existing', document: presented(row) };
}
