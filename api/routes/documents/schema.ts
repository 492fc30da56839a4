// Contracts of /v1/documents: upload (a file, or JSON text), list, get with the ingestion's
// status history, download the original, reprocess, cancel and delete, and the tenant's re-embedding.
import { z } from 'zod';
import { DOCUMENT_SOURCES, DOCUMENT_VISIBILITIES } from '../../../contract/documents.ts';
import { DOCUMENT_STATUSES, DocumentRow } from '../../../db/queries/documents.ts';
import { INGESTION_STEPS } from '../../../workflows/shared.ts';
import type { Contract } from '../../openapi/contract.ts';
import { pageQuery, pageSchema } from '../../paging.ts';
import { Timestamp, Uuid } from '../../schemas.ts';
import { JobWithEvents, StartedWorkflow } from '../jobs/schema.ts';

export const Document = DocumentRow.omit({ blobKey: true })
  .extend({
    ownerUserId: Uuid.meta({ description: 'The uploading user, or the API key that uploaded the document' }),
    activeVersion: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'The version search serves; null until the first ingestion completes' }),
    metadata: z.record(z.string(), z.unknown()).meta({ description: 'What extraction learnt: format, title, pages…' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Document' });
export type Document = z.infer<typeof Document>;

export const PendingDocument = z
  .object({ id: Uuid, status: z.literal('queued') })
  .meta({ id: 'PendingDocument', description: 'A document whose ingestion run has not yet written its row' });
export type PendingDocument = z.infer<typeof PendingDocument>;

export const IngestionProgress = z
  .object({ step: z.enum(INGESTION_STEPS), chunksEmbedded: z.number().int(), chunksTotal: z.number().int() })
  .meta({ id: 'IngestionProgress' });

export const DocumentDetail = Document.extend({
  progress: IngestionProgress.nullable().meta({ description: 'Live progress while the document is processing' }),
  ingestion: JobWithEvents.nullable().meta({ description: 'The latest ingestion job and its step history' }),
}).meta({ id: 'DocumentDetail' });
export type DocumentDetail = z.infer<typeof DocumentDetail>;

export const DocumentPage = pageSchema('DocumentPage', 'documents', Document);
export type DocumentPage = z.infer<typeof DocumentPage>;

const Tag = z.string().trim().min(1).max(100);

/** What the uploader says about a document, in a JSON body or as multipart fields. */
export const DocumentFields = z.object({
  title: z.string().trim().min(1).max(500).optional(),
  description: z.string().max(5000).default(''),
  tags: z.array(Tag).max(50).default([]),
  visibility: z
    .enum(DOCUMENT_VISIBILITIES)
    .default('tenant')
    .meta({ description: '`private` documents are visible to their uploader alone (users only, not API keys)' }),
});
export type DocumentFields = z.output<typeof DocumentFields>;

const TextDocument = DocumentFields.extend({
  title: z.string().trim().min(1).max(500),
  text: z.string().min(1).meta({ description: 'The document as plain text' }),
});

const UploadForm = DocumentFields.extend({
  file: z.string().meta({
    format: 'binary',
    description: 'The document: txt, md, html, pdf, docx, xlsx, ods, pptx, odt, rtf, csv, json or eml',
  }),
  tags: z.string().optional().meta({ description: 'Comma-separated; the field may also be repeated' }),
  title: z.string().optional().meta({ description: 'Defaults to the file name' }),
});

const DocumentParams = z.object({ documentId: Uuid });

export const CreateDocument = {
  summary: 'Upload a document (multipart file, or JSON text) and start its ingestion',
  description:
    'The file streams to the blob store; the response carries the document row written by the ingestion ' +
    'workflow’s first step. Content identical to a document already in the same scope (the tenant, or the ' +
    'uploader’s private documents) returns that document with 200 instead of ingesting it again. A retry of ' +
    'the same upload (after a 503, a timeout or a dropped connection) reaches the same document: its id is ' +
    'derived from the content and scope, or from the `Idempotency-Key` header when one is sent (1–255 visible ' +
    'ASCII characters, per uploader; the same key with other content is 409 `idempotency_key_reused`). ' +
    'The format is judged by the file’s leading bytes as well as its name and declared type: a file Quarry ' +
    'cannot ingest (an image, an executable, an archive) is 415 `unsupported_format` with ' +
    '`details.detectedType`, and nothing is stored; a file whose declared type names another format than its ' +
    'bytes (a PDF sent as text/plain) is stored with its detected type.',
  body: TextDocument,
  multipart: UploadForm,
  responses: {
    201: { description: 'The new document, processing (Location: the document)', schema: Document },
    200: { description: 'The existing document with identical content, or of this Idempotency-Key', schema: Document },
    202: {
      description:
        'Accepted, but not yet registered by an ingestion worker: poll Location (GET answers 202 until the row exists)',
      schema: PendingDocument,
    },
  },
  errors: [400, 409, 503],
} satisfies Contract;

/** What every file of a batch shares (each file's title is its name). */
export const BatchFields = DocumentFields.omit({ title: true });
export type BatchFields = z.output<typeof BatchFields>;

const BatchForm = BatchFields.extend({
  file: z.array(z.string().meta({ format: 'binary' })).meta({
    description:
      'The files, one `file` part each (at most BATCH_UPLOAD_MAX_FILES), in the formats a single upload takes',
  }),
  tags: z.string().optional().meta({ description: 'Comma-separated; the field may also be repeated' }),
});

const ItemError = z
  .object({
    status: z.number().int(),
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ description: 'The error a single upload of this file would be answered with' });

const ItemBase = {
  index: z.number().int().meta({ description: 'The file’s place in the request, from 0' }),
  filename: z.string().nullable(),
};

export const BatchItem = z
  .discriminatedUnion('outcome', [
    z.object({ ...ItemBase, outcome: z.literal('created'), document: Document }),
    z.object({ ...ItemBase, outcome: z.literal('existing'), document: Document }),
    z.object({ ...ItemBase, outcome: z.literal('queued'), id: Uuid.optional() }),
    z.object({
      ...ItemBase,
      outcome: z.literal('duplicate'),
      of: z.number().int().meta({ description: 'The index of the earlier file of this batch with the same content' }),
    }),
    z.object({ ...ItemBase, outcome: z.literal('refused'), error: ItemError }),
  ])
  .meta({ id: 'BatchItem' });
export type BatchItem = z.infer<typeof BatchItem>;

export const BatchResult = z
  .object({
    batch: z.object({
      id: Uuid,
      workflowId: z
        .string()
        .nullable()
        .meta({ description: 'The import workflow building the batch’s small documents (kind `import` in /v1/jobs)' }),
    }),
    documents: z.array(BatchItem),
  })
  .meta({ id: 'BatchResult' });
export type BatchResult = z.infer<typeof BatchResult>;

export const CreateBatch = {
  summary: 'Upload many files at once; their small documents share one import run',
  description:
    'Each `file` part is staged and judged as a single upload’s would be, and answered on its own, in order: ' +
    '`created` (a new document, processing), `existing` (the same content is already a document in the scope; ' +
    'a failed one read otherwise is tried again, as a single upload would), `duplicate` (an earlier file of ' +
    'this batch has the same content), `queued` (not yet registered: poll the document) or `refused` (with the ' +
    'error a single upload would get: 415 `unsupported_format`, 413 `payload_too_large`…). Files of up to ' +
    'INGESTION_ONE_STEP_MAX_BYTES are built by one import workflow; larger ones by an ingestion run each. Every ' +
    'document keeps its own status, job and step history (GET /v1/documents/:id). The fields (visibility, ' +
    'tags, description) apply to every file; each title is the file name. With an `Idempotency-Key`, a retry ' +
    'of the batch attaches to the same import. More than BATCH_UPLOAD_MAX_FILES files is 400 `too_many_files`.',
  multipart: BatchForm,
  responses: {
    201: { description: 'At least one new document', schema: BatchResult },
    200: { description: 'No new document: every file existed, repeated another or was refused', schema: BatchResult },
  },
  errors: [400, 503],
} satisfies Contract;

export const ListDocuments = {
  summary: 'Documents of the tenant (and the caller’s private ones), newest first',
  query: z.object({
    status: z.enum(DOCUMENT_STATUSES).optional(),
    tag: Tag.optional(),
    source: z.enum(DOCUMENT_SOURCES).optional(),
    visibility: z.enum(DOCUMENT_VISIBILITIES).optional(),
    createdAfter: Timestamp.optional().meta({ description: 'Created at or after this instant' }),
    createdBefore: Timestamp.optional().meta({ description: 'Created before this instant' }),
    ...pageQuery,
  }),
  responses: { 200: { description: 'One page of documents', schema: DocumentPage } },
} satisfies Contract;

export const GetDocument = {
  summary: 'A document with its status, progress and ingestion step history',
  description: 'An id that is not a UUID, unknown, another tenant’s or another user’s private one is answered 404.',
  params: DocumentParams,
  responses: {
    200: { description: 'The document', schema: DocumentDetail },
    202: { description: 'Uploaded, not yet registered: look again after Retry-After', schema: PendingDocument },
  },
} satisfies Contract;

export const DownloadDocument = {
  summary: 'Download the original file',
  params: DocumentParams,
  responses: {
    200: { description: 'The original bytes, with their media type', contentType: 'application/octet-stream' },
  },
} satisfies Contract;

export const ReprocessDocument = {
  summary: 'Ingest the document again as a new version',
  description: 'Search keeps serving the active version until the new one is complete. 409 while it is processing.',
  params: DocumentParams,
  responses: { 202: { description: 'The document, processing its new version', schema: Document } },
  errors: [409, 503],
} satisfies Contract;

export const ReembedDocuments = {
  summary: 'Re-embed the tenant’s documents with the configured embedding model (admins and owners)',
  description:
    'After a change of embedding model, search finds only vectors of the configured model. This job reprocesses ' +
    'every document whose active version was embedded with another model or dimension, each as a new version ' +
    'that replaces the old one once complete; documents that are processing are left to their ingestion. A ' +
    'document that fails does not stop the others: the job completes with counts of re-embedded and failed ' +
    'documents in its progress, and fails only when none could be re-embedded. A request while the job runs ' +
    'returns the running job. Follow it in /v1/jobs (kind `reembed`).',
  responses: { 202: { description: 'The workflow that carries out the job', schema: StartedWorkflow } },
} satisfies Contract;

export const CancelDocument = {
  summary: 'Cancel the running ingestion',
  description:
    'The document ends `cancelled` and the previously active version (if any) keeps serving. 409 when nothing ' +
    'is processing; 202 when the ingestion has not stopped yet.',
  params: DocumentParams,
  responses: {
    200: { description: 'The document, cancelled', schema: Document },
    202: { description: 'Cancellation requested; the ingestion is still stopping', schema: Document },
  },
  errors: [409],
} satisfies Contract;

export const DeleteDocument = {
  summary: 'Delete the document, its chunks, vectors and original',
  description: 'A running ingestion is cancelled first.',
  params: DocumentParams,
  responses: { 204: { description: 'The document is gone' } },
} satisfies Contract;
