// /v1/documents. The API never writes a document or chunk row: it streams the upload to the
// blob store and starts the ingestion workflow, whose first activity writes the row (update-
// with-start hands it back for the 201). Deletion and cancellation are Temporal jobs too.
// A tenant's re-embedding after a change of model is a Temporal job as well (admins only).
// Reads go straight to PostgreSQL under the caller's row-level-security scope.
import { setTimeout as sleep } from 'node:timers/promises';
import Router from '@koa/router';
import { findDocument, findDocumentWithLatestJob, listDocuments } from '../../../db/queries/documents.ts';
import { listJobEvents } from '../../../db/queries/job-events.ts';
import { BlobNotFoundError } from '../../../storage/blob-store.ts';
import {
  cancelImportDocuments,
  deleteDocumentJob,
  ingestionProgress,
  startReembed,
} from '../../../workflow-client/documents.ts';
import { cancelIngestion, ingestionPending } from '../../../workflow-client/ingestion-handle.ts';
import type { IngestionProgress as Progress } from '../../../workflows/shared.ts';
import { tenantOf, type ApiContextExtension, type ApiState, type RouteContext } from '../../context.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { requireRole } from '../../middleware/require-role.ts';
import { requireTenant } from '../../middleware/require-tenant.ts';
import { validate } from '../../middleware/validate.ts';
import { pageBody } from '../../paging.ts';
import { serialized } from '../../schemas.ts';
import type { StartedWorkflow } from '../jobs/schema.ts';
import { createBatch } from './batch.ts';
import { actorOf, fromMultipart, fromText, ingest, presented, refOf, register } from './ingest.ts';
import {
  CancelDocument,
  CreateBatch,
  CreateDocument,
  DeleteDocument,
  DownloadDocument,
  GetDocument,
  IngestionProgress,
  ListDocuments,
  ReembedDocuments,
  ReprocessDocument,
  type Document,
  type DocumentDetail,
  type DocumentPage,
  type PendingDocument,
} from './schema.ts';

/** How long a GET waits for a processing document's live progress. */
const PROGRESS_TIMEOUT_MS = 2_000;
/** When a client should look again at a document whose registration is still on its way. */
const PENDING_RETRY_AFTER_SECONDS = 2;
/** How long a cancel request waits for the ingestion to stop before answering 202. */
const CANCEL_WAIT_MS = 20_000;
/** How long a cancel request waits for a batch import to skip the document, and how often it looks. */
const BATCH_CANCEL_WAIT_MS = 5_000;
const BATCH_CANCEL_POLL_MS = 100;

export function createDocumentsRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/documents' });
  const reader = () => [authenticate({ apiKeys: true }), requireTenant()] as const;
  const writer = () => [...reader(), requireRole('member')] as const;
  // An upload streams its body and waits for the workflow to register the document:
  // no transaction stays open meanwhile.
  const uploader = () =>
    [authenticate({ apiKeys: true }), requireTenant({ transaction: 'statement' }), requireRole('member')] as const;
  router.post('/', ...uploader(), validate(CreateDocument), create);
  router.post('/batch', ...uploader(), validate(CreateBatch), createBatch);
  router.post('/reembed', ...reader(), requireRole('admin'), validate(ReembedDocuments), reembed);
  router.get('/', ...reader(), validate(ListDocuments), list);
  router.get('/:documentId', ...reader(), validate(GetDocument), get);
  router.get('/:documentId/content', ...reader(), validate(DownloadDocument), download);
  router.post('/:documentId/reprocess', ...writer(), validate(ReprocessDocument), reprocess);
  router.post('/:documentId/cancel', ...writer(), validate(CancelDocument), cancel);
  router.delete('/:documentId', ...writer(), validate(DeleteDocument), remove);
  return router;
}

async function visibleDocument(ctx: { state: ApiState }, id: string) {
  const document = await findDocument(tenantOf(ctx).tx, id);
  if (!document) throw new NotFoundError('Document not found');
  return document;
}

/** Answers 202 for a document whose run has not yet written its row, with where to look again. */
function answerPending(ctx: RouteContext<typeof CreateDocument> | RouteContext<typeof GetDocument>, id: string) {
  ctx.status = 202;
  ctx.set('Location', `/v1/documents/${id}`);
  ctx.set('Retry-After', String(PENDING_RETRY_AFTER_SECONDS));
  ctx.body = { id, status: 'queued' } satisfies PendingDocument;
}

async function create(ctx: RouteContext<typeof CreateDocument>) {
  const incoming = ctx.is('multipart/form-data') ? await fromMultipart(ctx) : await fromText(ctx, ctx.state.input.body);
  const outcome = await ingest(ctx, incoming);
  if (outcome.status === 202) {
    answerPending(ctx, outcome.pending.id);
    return;
  }
  ctx.status = outcome.status;
  ctx.set('Location', `/v1/documents/${outcome.document.id}`);
  ctx.body = presented(outcome.document) satisfies Document;
}

async function list(ctx: RouteContext<typeof ListDocuments>) {
  const { tenantId, tx } = tenantOf(ctx);
  const { cursor, createdAfter, createdBefore, ...filters } = ctx.state.input.query;
  const page = await listDocuments(tx, tenantId, {
    ...filters,
    ...(createdAfter ? { createdAfter: new Date(createdAfter) } : {}),
    ...(createdBefore ? { createdBefore: new Date(createdBefore) } : {}),
    after: cursor,
  });
  ctx.body = pageBody('documents', page, presented) satisfies DocumentPage;
}

/**
 * A run building in one activity (step `build`) is embedding once the job's progress row says
 * so (embedChunks writes it with each batch): that step, with its counts, is the better answer.
 */
function stepWithinBuild(
  progress: Progress | null,
  job: { progress: Record<string, unknown> } | null,
): Progress | null {
  if (progress?.step !== 'build' || !job) return progress;
  const embedding = IngestionProgress.safeParse(job.progress);
  return embedding.success && embedding.data.step === 'embed' ? embedding.data : progress;
}

async function get(ctx: RouteContext<typeof GetDocument>) {
  const { tenantId, tx } = tenantOf(ctx);
  const { documentId } = ctx.state.input.params;
  // The document and its latest ingestion from one snapshot, so their statuses agree.
  const found = await findDocumentWithLatestJob(tx, documentId, 'ingestion');
  if (!found) {
    // Uploaded, answered 202, and not yet registered: still on its way.
    if (await ingestionPending(ctx.services.temporal, { tenantId, documentId })) return answerPending(ctx, documentId);
    throw new NotFoundError('Document not found');
  }
  const { document, job } = found;
  const events = job ? await listJobEvents(tx, job.id) : [];
  const progress =
    document.status === 'processing'
      ? stepWithinBuild(await ingestionProgress(ctx.services.temporal, refOf(document), PROGRESS_TIMEOUT_MS), job)
      : null;
  ctx.body = {
    ...presented(document),
    progress,
    ingestion: job ? { ...serialized(job), events: events.map(serialized) } : null,
  } satisfies DocumentDetail;
}

async function download(ctx: RouteContext<typeof DownloadDocument>) {
  const document = await visibleDocument(ctx, ctx.state.input.params.documentId);
  const stream = await ctx.services.blobs.open(document.blobKey).catch((error: unknown) => {
    if (error instanceof BlobNotFoundError) throw new NotFoundError('The original of this document is missing');
    throw error;
  });
  ctx.attachment(document.filename ?? `${document.title}.txt`);
  ctx.type = document.mimeType ?? 'application/octet-stream';
  ctx.length = document.byteSize;
  ctx.body = stream;
}

async function reprocess(ctx: RouteContext<typeof ReprocessDocument>) {
  const document = await visibleDocument(ctx, ctx.state.input.params.documentId);
  if (document.status === 'processing') throw new ConflictError('document_busy', 'The document is processing');
  await register(
    ctx,
    { document: refOf(document), version: document.latestVersion + 1, upload: null, requestedBy: actorOf(ctx) },
    document.byteSize,
  );
  ctx.status = 202;
  ctx.body = presented(await visibleDocument(ctx, document.id)) satisfies Document;
}

async function reembed(ctx: RouteContext<typeof ReembedDocuments>) {
  const { temporal, config, embedder } = ctx.services;
  const started = await startReembed(
    temporal,
    {
      tenantId: tenantOf(ctx).tenantId,
      // The model search queries with: the one every vector must come from.
      target: { model: embedder.model, dimensions: embedder.dimensions },
      requestedBy: actorOf(ctx),
      heartbeatTimeoutSeconds: config.INGESTION_HEARTBEAT_TIMEOUT_SECONDS,
    },
    { taskQueue: config.INGESTION_TASK_QUEUE },
  );
  ctx.status = 202;
  ctx.body = started satisfies StartedWorkflow;
}

async function cancel(ctx: RouteContext<typeof CancelDocument>) {
  const found = await findDocumentWithLatestJob(tenantOf(ctx).tx, ctx.state.input.params.documentId, 'ingestion');
  if (!found) throw new NotFoundError('Document not found');
  const { document, job } = found;
  const notProcessing = () => new ConflictError('not_processing', `The document is ${document.status}, not processing`);
  if (document.status !== 'processing') throw notProcessing();
  const stopped = job?.carrierWorkflowId
    ? await cancelInBatch(ctx, job.carrierWorkflowId, document.id)
    : await cancelIngestion(ctx.services.temporal, refOf(document), { waitMs: CANCEL_WAIT_MS });
  const now = await visibleDocument(ctx, document.id);
  if (!stopped && now.status !== 'processing') throw notProcessing();
  ctx.status = now.status === 'cancelled' ? 200 : 202;
  ctx.body = presented(now) satisfies Document;
}

/**
 * A document of a batch import is cancelled by its import, which skips it if it is not built
 * yet (one being built finishes). Waits a little for it to end; true once it has.
 */
async function cancelInBatch(ctx: { state: ApiState } & ApiContextExtension, carrier: string, documentId: string) {
  await cancelImportDocuments(ctx.services.temporal, carrier, [documentId]);
  for (const deadline = Date.now() + BATCH_CANCEL_WAIT_MS; Date.now() < deadline;) {
    await sleep(BATCH_CANCEL_POLL_MS);
    const now = await findDocument(tenantOf(ctx).tx, documentId);
    if (now?.status !== 'processing') return true;
  }
  return false;
}

async function remove(ctx: RouteContext<typeof DeleteDocument>) {
  const document = await visibleDocument(ctx, ctx.state.input.params.documentId);
  const { temporal, config } = ctx.services;
  await deleteDocumentJob(
    temporal,
    { document: refOf(document), requestedBy: actorOf(ctx) },
    { taskQueue: config.INGESTION_TASK_QUEUE },
  );
  ctx.status = 204;
}
