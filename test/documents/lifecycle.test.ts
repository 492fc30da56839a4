// Provider failures, reprocessing, cancellation and deletion, with embeddings from the
// OpenAI-compatible stand-in server (the real openai SDK talks to it). Tests that program the
// stand-in's faults run serially, so that no other test's request takes their fault.
import { randomBytes } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { ingestionWorkflowId } from '../../workflow-client/ingestion-handle.ts';
import { call, tenantOwner, type Account } from '../api/harness.ts';
import { OpenAIStandIn } from '../stubs/openai-server.ts';
import {
  chunkStats,
  filesBelow,
  isOneStep,
  postText,
  settled,
  stepHistory,
  withDocuments,
  type DocumentsTestContext,
} from './harness.ts';

const standIn = new OpenAIStandIn();
const test = withDocuments(anyTest as TestFn<DocumentsTestContext>, async () => ({
  EMBEDDING_PROVIDER: 'openai',
  OPENAI_BASE_URL: await standIn.start(),
  INGESTION_HEARTBEAT_TIMEOUT_SECONDS: '3',
  CHUNK_SIZE: '200',
  CHUNK_OVERLAP: '0',
}));
test.after.always(() => standIn.stop());

type Caller = Account & { tenantId: string };

/** A text of `paragraphs` distinct paragraphs, a few chunks long. */
function uniqueText(paragraphs = 6): string {
  return Array.from(
    { length: paragraphs },
    (_, i) => `Paragraph ${i} ${randomBytes(6).toString('hex')}: the granary ledger lists barley, oats and rye.`,
  ).join('\n\n');
}

async function completedDocument(t: { context: DocumentsTestContext }, owner: Caller): Promise<string> {
  const { api } = t.context.docs;
  const created = await postText(api, owner, { title: 'Ledger', text: uniqueText() });
  const detail = await settled(api, owner, created.body.id);
  if (detail.body.status !== 'completed') throw new Error(`not completed: ${JSON.stringify(detail.body)}`);
  return created.body.id;
}

/** Polls until the document's version has chunk rows (its chunk step is done). */
async function untilChunked(t: { context: DocumentsTestContext }, owner: Caller, id: string, version: number) {
  for (let i = 0; i < 200; i++) {
    const stats = await chunkStats(t.context.docs.api, owner, id);
    if (stats.some((row) => row.version === version)) return stats;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`version ${version} of ${id} was never chunked`);
}

/** Chunks that a search would serve: those of each document's active version. */
async function servedChunks(t: { context: DocumentsTestContext }, owner: Caller, id: string): Promise<number> {
  return withTenant(t.context.docs.api.owner, owner, (tx) =>
    tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int4 AS n FROM chunks c JOIN documents d ON d.id = c.document_id
      WHERE d.id = ${id} AND c.version = d.active_version AND c.embedding IS NOT NULL`),
  );
}

const embedSteps = (detail: { body: Parameters<typeof stepHistory>[0] }) =>
  stepHistory(detail.body).filter((step) => step.startsWith('embedChunks:'));

test.serial('a 429 with Retry-After and then a 500 are retried with backoff, then the batch succeeds', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  standIn.reset();
  standIn.failNext([
    { endpoint: 'embeddings', status: 429, retryAfter: 1, message: 'Rate limit reached for requests' },
    { endpoint: 'embeddings', status: 500, message: 'The server had an error' },
  ]);
  const created = await postText(api, owner, { title: 'Retried', text: uniqueText(2) });
  const detail = await settled(api, owner, created.body.id);
  t.is(detail.body.status, 'completed');
  t.deepEqual(embedSteps(detail), [
    'embedChunks:started:1',
    'embedChunks:retrying:1',
    'embedChunks:started:2',
    'embedChunks:retrying:2',
    'embedChunks:started:3',
    'embedChunks:completed:3',
  ]);
  const events = detail.body.ingestion.events.filter((event: { step: string }) => event.step === 'embedChunks');
  t.regex(events[1].message, /answered 429: Rate limit reached for requests$/);
  t.regex(events[3].message, /answered 500: The server had an error$/);
  const waited = Date.parse(events[2].createdAt) - Date.parse(events[1].createdAt);
  t.true(waited >= 900, `the second attempt waited ${waited} ms after the 429 asked for 1 s`);
  t.deepEqual(
    standIn.requestsTo('embeddings').map((request) => request.outcome),
    [429, 500, 200],
  );
  t.deepEqual(await chunkStats(api, owner, created.body.id), [
    { version: 1, chunks: detail.body.chunkCount, embedded: detail.body.chunkCount, duplicates: 0 },
  ]);
});

test.serial('a 400 from the provider fails the document with the provider’s message, without retrying', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  standIn.reset();
  standIn.failNext([{ endpoint: 'embeddings', status: 400, message: 'Invalid input: the text is not allowed' }]);
  const created = await postText(api, owner, { title: 'Refused', text: uniqueText(2) });
  const detail = await settled(api, owner, created.body.id);
  t.is(detail.body.status, 'failed');
  t.regex(detail.body.error, /^127\.0\.0\.1:\d+ answered 400: Invalid input: the text is not allowed$/);
  t.like(detail.body.ingestion, { status: 'failed', error: detail.body.error });
  t.deepEqual(embedSteps(detail), ['embedChunks:started:1', 'embedChunks:failed:1']);
  t.deepEqual(await chunkStats(api, owner, created.body.id), []);
  t.is(detail.body.activeVersion, null);
});

test.serial('reprocessing keeps the old version served until the new one is switched active', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const id = await completedDocument(t, owner);
  const [v1] = await chunkStats(api, owner, id);
  standIn.reset();
  standIn.failNext([{ endpoint: 'embeddings', delayMs: 2500 }]);

  const reprocess = await call(api, 'POST', `/v1/documents/${id}/reprocess`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.is(reprocess.status, 202);
  t.like(reprocess.body, { id, status: 'processing', activeVersion: 1, latestVersion: 2 });

  // While version 2 is being embedded, search still finds every chunk of version 1.
  const during = await untilChunked(t, owner, id, 2);
  t.deepEqual(during[0], v1);
  t.is(await servedChunks(t, owner, id), v1!.chunks);
  const busy = await call(api, 'POST', `/v1/documents/${id}/reprocess`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.is(busy.status, 409);
  t.is(busy.body.error.code, 'document_busy');
  const live = await call(api, 'GET', `/v1/documents/${id}`, { token: owner.token, tenantId: owner.tenantId });
  // Held in its first batch of embeddings: a small original's build is one activity (step
  // `build`) until that batch writes the job's progress; step by step, the run is at `embed`.
  const step = isOneStep(api, live.body.byteSize) ? 'build' : 'embed';
  t.like(live.body, { status: 'processing', activeVersion: 1, progress: { step } });

  const detail = await settled(api, owner, id);
  t.like(detail.body, { status: 'completed', activeVersion: 2, latestVersion: 2 });
  const after = await chunkStats(api, owner, id);
  t.deepEqual(
    after.map((row) => row.version),
    [2],
  );
  t.is(await servedChunks(t, owner, id), after[0]!.chunks);
});

test.serial('cancelling a reprocess records cancelled and leaves the active version serving', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const id = await completedDocument(t, owner);
  const [v1] = await chunkStats(api, owner, id);
  standIn.reset();
  standIn.failNext([{ endpoint: 'embeddings', delayMs: 8000 }]);
  await call(api, 'POST', `/v1/documents/${id}/reprocess`, { token: owner.token, tenantId: owner.tenantId });
  await untilChunked(t, owner, id, 2);

  const cancelled = await call(api, 'POST', `/v1/documents/${id}/cancel`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.is(cancelled.status, 200);
  t.like(cancelled.body, { status: 'cancelled', error: 'Cancelled on request', activeVersion: 1, latestVersion: 2 });
  const description = await api.temporal.client.workflow
    .getHandle(ingestionWorkflowId({ tenantId: owner.tenantId, documentId: id }))
    .describe();
  t.is(description.status.name, 'CANCELLED');
  const detail = await call(api, 'GET', `/v1/documents/${id}`, { token: owner.token, tenantId: owner.tenantId });
  t.like(detail.body.ingestion, { status: 'cancelled', error: 'cancelled' });
  t.true(stepHistory(detail.body).includes('job:cancelled:1'));
  t.deepEqual(await chunkStats(api, owner, id), [v1]);
  t.is(await servedChunks(t, owner, id), v1!.chunks);

  const again = await call(api, 'POST', `/v1/documents/${id}/cancel`, { token: owner.token, tenantId: owner.tenantId });
  t.is(again.status, 409);
  t.is(again.body.error.code, 'not_processing');
});

test.serial('deleting a processing document cancels its ingestion, then removes everything', async (t) => {
  const { api, blobDir } = t.context.docs;
  const owner = await tenantOwner(api);
  standIn.reset();
  standIn.failNext([{ endpoint: 'embeddings', delayMs: 8000 }]);
  const created = await postText(api, owner, { title: 'Doomed', text: uniqueText() });
  await untilChunked(t, owner, created.body.id, 1);

  const deleted = await call(api, 'DELETE', `/v1/documents/${created.body.id}`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.is(deleted.status, 204);
  const description = await api.temporal.client.workflow
    .getHandle(ingestionWorkflowId({ tenantId: owner.tenantId, documentId: created.body.id }))
    .describe();
  t.is(description.status.name, 'CANCELLED');
  t.is(
    (await call(api, 'GET', `/v1/documents/${created.body.id}`, { token: owner.token, tenantId: owner.tenantId }))
      .status,
    404,
  );
  t.deepEqual(await chunkStats(api, owner, created.body.id), []);
  t.deepEqual(
    (await filesBelow(blobDir)).filter((file) => file.includes(created.body.id)),
    [],
  );
});

test('deleting a document removes its row, chunks, vectors and blobs, as a recorded job', async (t) => {
  const { api, blobDir } = t.context.docs;
  const owner = await tenantOwner(api);
  const id = await completedDocument(t, owner);
  t.true((await filesBelow(blobDir)).some((file) => file.includes(id)));

  const deleted = await call(api, 'DELETE', `/v1/documents/${id}`, { token: owner.token, tenantId: owner.tenantId });
  t.is(deleted.status, 204);
  for (const path of [`/v1/documents/${id}`, `/v1/documents/${id}/content`]) {
    t.is((await call(api, 'GET', path, { token: owner.token, tenantId: owner.tenantId })).status, 404, path);
  }
  t.deepEqual(await chunkStats(api, owner, id), []);
  t.deepEqual(
    (await filesBelow(blobDir)).filter((file) => file.includes(id)),
    [],
  );
  const jobs = await call(api, 'GET', '/v1/jobs?kind=document-deletion', {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.like(jobs.body.jobs, [{ subject: id, status: 'completed' }]);
  const gone = await call(api, 'DELETE', `/v1/documents/${id}`, { token: owner.token, tenantId: owner.tenantId });
  t.is(gone.status, 404);
});
