// Uploads through the real HTTP API, as a client would: a tenant of its own, documents POSTed as
// JSON text, every answer's status and latency recorded, and the wait until the documents are
// completed, read from PostgreSQL under the tenant's row-level-security scope.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { ingestionWorkflowId } from '../../workflow-client/ingestion-handle.ts';
import { call } from '../../test/api/harness.ts';
import { chunkText, createCorpusModel, seededRandom } from './corpus.ts';

export interface Owner {
  readonly token: string;
  readonly userId: string;
}
export interface Tenant extends Owner {
  readonly tenantId: string;
}

export interface BenchDocument {
  readonly title: string;
  readonly text: string;
}

/** A file uploaded as multipart/form-data; its title defaults to the file name. */
export interface BenchFile {
  readonly filename: string;
  readonly bytes: Uint8Array;
  readonly mimeType: string;
}

/** `count` distinct documents of `paragraphs` paragraphs each, the same for the same seed. */
export function benchDocuments(seed: number, count: number, paragraphs: number): BenchDocument[] {
  const model = createCorpusModel(seed);
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, d) => ({
    title: `Bench ${seed}.${d}`,
    text: Array.from({ length: paragraphs }, () => chunkText(model, random, Math.floor(random() * 400))).join('\n\n'),
  }));
}

const Created = z.object({ id: z.string() });
const LoginReply = z.object({ token: z.string(), user: Created });
/** An error answer that names its document (a 503 after the upload was stored). */
const NamingFailure = z.object({ error: z.object({ details: z.object({ documentId: z.string() }) }) });

/** An account, signed in, through the API. */
export async function signUpOwner(api: { url: string }): Promise<Owner> {
  const credentials = { email: `bench-${randomBytes(4).toString('hex')}@bench.test`, password: 'bench-password-1' };
  const registered = await call(api, 'POST', '/v1/auth/register', { body: credentials });
  if (registered.status !== 201) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
  const login = await call(api, 'POST', '/v1/auth/login', { body: credentials });
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  const session = LoginReply.parse(login.body);
  return { token: session.token, userId: session.user.id };
}

export async function createBenchTenant(api: { url: string }, owner: Owner, name: string): Promise<Tenant> {
  const created = await call(api, 'POST', '/v1/tenants', { token: owner.token, body: { name } });
  if (created.status !== 201) throw new Error(`create tenant failed: ${JSON.stringify(created.body)}`);
  return { ...owner, tenantId: Created.parse(created.body).id };
}

export interface UploadAnswer {
  /** The final answer's status, or 0 when the connection failed every time. */
  readonly status: number;
  readonly documentId: string | null;
  /** From the first request to the final answer. */
  readonly ms: number;
  /** Answers before the final one (5xx or a failed connection), each followed by a retry. */
  readonly retries: number;
  /** Every status seen, the retried ones included (0: no answer). */
  readonly statuses: readonly number[];
}

/** POST /v1/documents: JSON text, or a file as multipart/form-data. */
function post(api: { url: string }, tenant: Tenant, document: BenchDocument | BenchFile) {
  if (!('filename' in document)) {
    return call(api, 'POST', '/v1/documents', { token: tenant.token, tenantId: tenant.tenantId, body: document });
  }
  const form = new FormData();
  form.append('file', new Blob([document.bytes], { type: document.mimeType }), document.filename);
  return fetch(`${api.url}/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.token}`, 'x-tenant-id': tenant.tenantId },
    body: form,
  }).then(async (response) => {
    const text = await response.text();
    const json = response.headers.get('content-type')?.includes('json') && text;
    return { status: response.status, headers: response.headers, body: json ? (JSON.parse(text) as unknown) : text };
  });
}

/**
 * POSTs one document. With `retryUntil` (epoch ms) a 5xx or a failed connection is retried after
 * its Retry-After (1 s when none) until then, as a client riding out an outage would.
 */
export async function upload(
  api: { url: string },
  tenant: Tenant,
  document: BenchDocument | BenchFile,
  retryUntil = 0,
): Promise<UploadAnswer> {
  const begun = performance.now();
  const statuses: number[] = [];
  for (;;) {
    let status: number;
    let documentId: string | null = null;
    let retryAfter = 1;
    try {
      const reply = await post(api, tenant, document);
      status = reply.status;
      documentId =
        Created.safeParse(reply.body).data?.id ??
        NamingFailure.safeParse(reply.body).data?.error.details.documentId ??
        null;
      retryAfter = Number(reply.headers.get('retry-after') ?? 1) || 1;
    } catch {
      status = 0;
    }
    statuses.push(status);
    const final = status !== 0 && status < 500;
    if (final || Date.now() + retryAfter * 1000 > retryUntil) {
      return { status, documentId, ms: performance.now() - begun, retries: statuses.length - 1, statuses };
    }
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
  }
}

const StatusCount = z.object({ status: z.string(), count: z.number() });

/** How many of the tenant's documents are in each status. */
export async function documentStatuses(pool: DatabasePool, tenant: Tenant): Promise<Record<string, number>> {
  const rows = await withTenant(pool, { tenantId: tenant.tenantId, userId: tenant.userId }, (tx) =>
    tx.any(sql.type(StatusCount)`SELECT status, count(*)::int AS count FROM documents GROUP BY status`),
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

/**
 * Waits until `expected` of the tenant's documents are completed (or none is still on its way),
 * polling PostgreSQL; a poll that fails (the database is down) is simply tried again. Answers
 * the last counts seen and when the wait ended.
 */
export async function waitForDocuments(
  pool: DatabasePool,
  tenant: Tenant,
  expected: number,
  deadline: number,
): Promise<{ statuses: Record<string, number>; at: number }> {
  let statuses: Record<string, number> = {};
  for (;;) {
    statuses = await documentStatuses(pool, tenant).catch(() => statuses);
    const settled = (statuses.completed ?? 0) + (statuses.failed ?? 0) + (statuses.cancelled ?? 0);
    if (settled >= expected || Date.now() > deadline) return { statuses, at: performance.now() };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A protobuf timestamp of Temporal's history, in epoch milliseconds. */
function epochMs(time: { seconds?: { toString(): string } | number | null; nanos?: number | null }): number {
  return Number(time.seconds?.toString() ?? 0) * 1000 + (time.nanos ?? 0) / 1e6;
}

/**
 * How long the first workflow task of each document's ingestion waited in the task queue (from
 * its WorkflowTaskScheduled to its WorkflowTaskStarted event), from Temporal's history.
 */
export async function firstTaskWaits(client: Client, tenantId: string, documentIds: readonly string[]) {
  const waits: number[] = [];
  for (const documentId of documentIds) {
    const history = await client.workflow.getHandle(ingestionWorkflowId({ tenantId, documentId })).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.find((event) => event.workflowTaskScheduledEventAttributes);
    const started = events.find((event) => event.workflowTaskStartedEventAttributes);
    if (scheduled?.eventTime && started?.eventTime) {
      waits.push(epochMs(started.eventTime) - epochMs(scheduled.eventTime));
    }
  }
  return waits;
}

export interface BatchAnswer {
  readonly status: number;
  /** The import workflow of the batch's new small documents, if any. */
  readonly workflowId: string | null;
  /** From the request to its answer (every row registered). */
  readonly ms: number;
}

/** A file name for a text document: its title without what a file name should not hold. */
function textFilename(title: string): string {
  return `${title.replace(/[^\p{L}\p{N} ,.-]/gu, ' ').slice(0, 200)}.txt`;
}

/** POST /v1/documents/batch: the documents as text files, one `file` part each. */
export async function uploadBatch(
  api: { url: string },
  tenant: Tenant,
  documents: readonly BenchDocument[],
): Promise<BatchAnswer> {
  const form = new FormData();
  for (const document of documents) {
    form.append('file', new Blob([document.text], { type: 'text/plain' }), textFilename(document.title));
  }
  const begun = performance.now();
  const response = await fetch(`${api.url}/v1/documents/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.token}`, 'x-tenant-id': tenant.tenantId },
    body: form,
  });
  const reply = (await response.json()) as { batch?: { workflowId: string | null } };
  return { status: response.status, workflowId: reply.batch?.workflowId ?? null, ms: performance.now() - begun };
}
