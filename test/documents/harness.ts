// The documents API under test: the real app (test/api/harness.ts) and an ingestion worker of
// the file's own, on a task queue and blob directory no other test file uses. Helpers upload
// files and text the way clients do, and wait for the ingestion workflow to end.
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { ingestionWorkflowId } from '../../workflow-client/ingestion-handle.ts';
import { createIngestionWorker } from '../../worker.ts';
import { call, startApi, type Account, type ApiHarness, type Reply } from '../api/harness.ts';
import { readFixture } from '../rag/fixtures.ts';
import { startTestWorker, type TestWorker } from '../helpers/worker.ts';
import { uniqueTaskQueue } from '../helpers/stack.ts';

export interface DocumentsHarness {
  readonly api: ApiHarness;
  readonly settings: Record<string, string>;
  readonly blobDir: string;
  close(): Promise<void>;
}

export type RunningWorker = TestWorker;

/** An ingestion worker in this process, with the harness's settings over the test config. */
export function startIngestionWorker(
  settings: Record<string, string>,
  testInterceptors: readonly ActivityInterceptorsFactory[] = [],
): Promise<RunningWorker> {
  return startTestWorker(createIngestionWorker, { settings, testInterceptors });
}

/** Settings of a fresh queue and blob directory, over `overrides`. */
export function documentSettings(overrides: Record<string, string> = {}): Record<string, string> {
  const runDir = process.env.QUARRY_TEST_RUN_DIR ?? os.tmpdir();
  return {
    INGESTION_TASK_QUEUE: uniqueTaskQueue('ingestion'),
    BLOB_DIR: path.join(runDir, `blobs-${randomUUID().slice(0, 8)}`),
    INGESTION_HEARTBEAT_TIMEOUT_SECONDS: '10',
    ...overrides,
  };
}

export async function startDocuments(
  overrides: Record<string, string> = {},
  options: { worker?: boolean } = {},
): Promise<DocumentsHarness> {
  const settings = documentSettings(overrides);
  const api = await startApi(settings);
  const worker = options.worker === false ? null : await startIngestionWorker(settings);
  return {
    api,
    settings,
    blobDir: settings.BLOB_DIR!,
    async close() {
      await worker?.stop();
      await api.close();
    },
  };
}

export interface DocumentsTestContext {
  docs: DocumentsHarness;
}

/** Gives a test file one API and one ingestion worker for all its tests. */
export function withDocuments(
  test: TestFn<DocumentsTestContext>,
  overrides: Record<string, string> | (() => Promise<Record<string, string>>) = {},
): TestFn<DocumentsTestContext> {
  test.before(async (t) => {
    t.context.docs = await startDocuments(typeof overrides === 'function' ? await overrides() : overrides);
  });
  test.after.always(async (t) => {
    await t.context.docs?.close();
  });
  return test;
}

/**
 * Whether an original of `byteSize` bytes is built in one activity (INGESTION_ONE_STEP_MAX_BYTES)
 * by this API's runs.
 */
export function isOneStep(api: { config: { INGESTION_ONE_STEP_MAX_BYTES: number } }, byteSize: number): boolean {
  return byteSize <= api.config.INGESTION_ONE_STEP_MAX_BYTES;
}

/**
 * The step history of a version's build, as `stepHistory` lists it: the steps, inside the
 * buildDocument activity's own attempt when the run builds in one activity. `end` is the
 * build's end (its last step's).
 */
export function buildHistory(oneStep: boolean, steps: readonly string[], end = 'completed'): string[] {
  return oneStep ? ['buildDocument:started:1', ...steps, `buildDocument:${end}:1`] : [...steps];
}

/** The step events of a build that went through at its first attempt, in order. */
export const BUILD_STEPS = [
  'extractDocument:started:1',
  'extractDocument:completed:1',
  'chunkDocument:started:1',
  'chunkDocument:completed:1',
  'embedChunks:started:1',
  'embedChunks:completed:1',
  'activateDocument:started:1',
  'activateDocument:completed:1',
] as const;

export interface UploadOptions {
  readonly filename: string;
  readonly bytes: Uint8Array;
  readonly mimeType?: string;
  readonly fields?: Record<string, string>;
}

/** POSTs a multipart upload, as a browser form or `curl -F` would. */
export async function uploadFile(
  api: { url: string },
  caller: Pick<Account, 'token'> & { tenantId: string },
  upload: UploadOptions,
): Promise<Reply> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields ?? {})) form.append(name, value);
  form.append(
    'file',
    new Blob([upload.bytes], { type: upload.mimeType ?? 'application/octet-stream' }),
    upload.filename,
  );
  const response = await fetch(`${api.url}/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${caller.token}`, 'x-tenant-id': caller.tenantId },
    body: form,
  });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('json');
  return { status: response.status, headers: response.headers, body: isJson && text ? JSON.parse(text) : text };
}

export interface BatchFile {
  readonly name: string;
  readonly bytes?: Uint8Array;
  readonly type?: string;
}

export interface BatchItemReply {
  index: number;
  filename: string | null;
  outcome: string;
  document?: { id: string; status: string; title: string };
  error?: { status: number; code: string };
  of?: number;
  id?: string;
}

/** POSTs files to /v1/documents/batch, one `file` part each (a fixture's bytes unless given). */
export async function postBatch(
  api: { url: string },
  owner: Pick<Account, 'token'> & { tenantId: string },
  files: readonly BatchFile[],
  options: { fields?: Record<string, string>; key?: string } = {},
) {
  const form = new FormData();
  for (const [name, value] of Object.entries(options.fields ?? {})) form.append(name, value);
  for (const file of files) {
    const bytes = file.bytes ?? (await readFixture(file.name));
    form.append('file', new Blob([bytes], { type: file.type ?? 'application/octet-stream' }), file.name);
  }
  const response = await fetch(`${api.url}/v1/documents/batch`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${owner.token}`,
      'x-tenant-id': owner.tenantId,
      ...(options.key ? { 'idempotency-key': options.key } : {}),
    },
    body: form,
  });
  const body = (await response.json()) as {
    batch?: { id: string; workflowId: string | null };
    documents?: BatchItemReply[];
    error?: { code: string };
  };
  return { status: response.status, body };
}

/** POSTs a JSON text document. */
export function postText(
  api: { url: string },
  caller: Pick<Account, 'token'> & { tenantId: string },
  body: Record<string, unknown>,
): Promise<Reply> {
  return call(api, 'POST', '/v1/documents', { token: caller.token, tenantId: caller.tenantId, body });
}

/** Waits for the document's ingestion run to close (whatever its outcome), then GETs the document. */
export async function settled(
  api: ApiHarness,
  caller: Pick<Account, 'token'> & { tenantId: string },
  documentId: string,
): Promise<Reply> {
  const handle = api.temporal.client.workflow.getHandle(ingestionWorkflowId({ tenantId: caller.tenantId, documentId }));
  await handle.result().catch(() => undefined);
  return call(api, 'GET', `/v1/documents/${documentId}`, { token: caller.token, tenantId: caller.tenantId });
}

const ChunkStats = z.object({
  version: z.number().int(),
  chunks: z.number().int(),
  embedded: z.number().int(),
  duplicates: z.number().int(),
});

/**
 * The chunks of a document per version, read as the owner under the tenant's context: how
 * many there are, how many carry an embedding, and how many (version, ordinal) are doubled.
 */
export async function chunkStats(
  api: ApiHarness,
  context: { tenantId: string; userId: string },
  documentId: string,
): Promise<z.infer<typeof ChunkStats>[]> {
  const rows = await withTenant(api.owner, context, (tx) =>
    tx.any(sql.type(ChunkStats)`
      SELECT version, count(*)::int4 AS chunks, count(embedding)::int4 AS embedded,
             (count(*) - count(DISTINCT ordinal))::int4 AS duplicates
      FROM chunks WHERE document_id = ${documentId}
      GROUP BY version ORDER BY version
    `),
  );
  return [...rows];
}

/** Every file below a directory (empty directories do not count). */
export async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** The `step:status` of each event of the document's latest ingestion, optionally of one step. */
export function stepHistory(detail: { ingestion: { events: { step: string; status: string; attempt: number }[] } }) {
  return detail.ingestion.events.map((event) => `${event.step}:${event.status}:${event.attempt}`);
}
