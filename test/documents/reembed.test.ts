// Changing the embedding model: documents ingested under the old model are not found by search
// under the new one (queries filter by model), until the tenant's re-embed job has reprocessed
// them, private documents included. The API runs first without a worker, so that the job is
// certainly still running when the request is repeated.
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { addMember, call, signUp, tenantOwner, type Account } from '../api/harness.ts';
import {
  postText,
  settled,
  startDocuments,
  startIngestionWorker,
  type DocumentsHarness,
  type RunningWorker,
} from './harness.ts';

type Caller = Account & { tenantId: string };

interface Context {
  before: DocumentsHarness;
  after: DocumentsHarness;
  /** Workers started by the test (ava gives each test a shallow copy of the context). */
  workers: RunningWorker[];
}

const test = anyTest as TestFn<Context>;
const OLD = { EMBEDDING_MODEL: 'quarry-hash-384', EMBEDDING_DIMENSIONS: '384' };
const NEW = { EMBEDDING_MODEL: 'quarry-hash-256', EMBEDDING_DIMENSIONS: '256' };

test.before(async (t) => {
  t.context.before = await startDocuments(OLD);
  // The same blob store: the job reprocesses the originals the first harness stored.
  t.context.after = await startDocuments({ ...NEW, BLOB_DIR: t.context.before.blobDir }, { worker: false });
  t.context.workers = [];
});
test.after.always(async (t) => {
  await Promise.all(t.context.workers.map((worker) => worker.stop()));
  await t.context.after?.close();
  await t.context.before?.close();
});

const ChunkModels = z.object({
  documentId: z.uuid(),
  model: z.string().nullable(),
  dims: z.number().int().nullable(),
  chunks: z.number().int(),
});

/** The models of the chunks of each document's active version, read as the owner. */
function activeChunkModels(harness: DocumentsHarness, owner: Caller) {
  return withTenant(harness.api.owner, { tenantId: owner.tenantId, userId: owner.userId }, (tx) =>
    tx.any(sql.type(ChunkModels)`
      SELECT c.document_id AS "documentId", c.embedding_model AS model, c.embedding_dims AS dims,
             count(*)::int4 AS chunks
      FROM chunks c JOIN documents d ON d.id = c.document_id AND c.version = d.active_version
      GROUP BY 1, 2, 3 ORDER BY 1, 2
    `),
  );
}

function denseSearch(harness: DocumentsHarness, caller: Caller, query: string) {
  return call(harness.api, 'POST', '/v1/search', {
    token: caller.token,
    tenantId: caller.tenantId,
    body: { query, mode: 'dense', k: 10 },
  });
}

test('a re-embed job moves every document of the tenant to the configured model', async (t) => {
  const { before, after } = t.context;
  const owner = await tenantOwner(before.api);
  const ids: string[] = [];
  for (const [title, visibility] of [
    ['Granary ledger', 'tenant'],
    ['Private orchard notes', 'private'],
  ] as const) {
    const posted = await postText(before.api, owner, {
      title,
      visibility,
      text: `${title}: barley, oats and rye were counted in the autumn inventory.`,
    });
    t.is(posted.status, 201);
    ids.push(posted.body.id);
    t.like((await settled(before.api, owner, posted.body.id)).body, { status: 'completed', activeVersion: 1 });
  }
  ids.sort();
  const oldModels = ids.map((documentId) => ({ documentId, model: 'quarry-hash-384', dims: 384 }));
  t.like(await activeChunkModels(before, owner), oldModels);

  // Under the new model, the old vectors are not mixed in: dense search finds nothing.
  const unseen = await denseSearch(after, owner, 'autumn inventory of barley');
  t.is(unseen.status, 200);
  t.deepEqual(unseen.body.results, []);

  const viewer = await signUp(after.api, 'viewer');
  await addMember(after.api, owner.token, owner.tenantId, viewer.email, 'viewer');
  const refused = await call(after.api, 'POST', '/v1/documents/reembed', {
    token: viewer.token,
    tenantId: owner.tenantId,
  });
  t.is(refused.status, 403);

  const request = () =>
    call(after.api, 'POST', '/v1/documents/reembed', { token: owner.token, tenantId: owner.tenantId });
  const first = await request();
  t.is(first.status, 202);
  t.deepEqual(first.body, {
    workflowId: `reembed:${owner.tenantId}:quarry-hash-256:256`,
    runId: first.body.runId,
  });
  const repeated = await request();
  t.is(repeated.status, 202);
  t.deepEqual(repeated.body, first.body);

  t.context.workers.push(await startIngestionWorker(after.settings));
  const handle = after.api.temporal.client.workflow.getHandle(first.body.workflowId, first.body.runId);
  t.deepEqual(await handle.result(), { reembedded: 2, failed: 0 });

  t.deepEqual(
    (await activeChunkModels(after, owner)).map(({ chunks: _, ...rest }) => rest),
    ids.map((documentId) => ({ documentId, model: 'quarry-hash-256', dims: 256 })),
  );
  for (const id of ids) {
    const document = await call(after.api, 'GET', `/v1/documents/${id}`, {
      token: owner.token,
      tenantId: owner.tenantId,
    });
    t.like(document.body, { status: 'completed', activeVersion: 2, latestVersion: 2 });
  }
  const models = await withTenant(after.api.owner, { tenantId: owner.tenantId }, (tx) =>
    tx.any(sql.type(z.object({ model: z.string(), dimensions: z.number().int() }))`
      SELECT model, dimensions FROM embedding_models ORDER BY dimensions
    `),
  );
  t.deepEqual(models, [
    { model: 'quarry-hash-256', dimensions: 256 },
    { model: 'quarry-hash-384', dimensions: 384 },
  ]);

  const found = await denseSearch(after, owner, 'autumn inventory of barley');
  t.deepEqual([...new Set(found.body.results.map((result: { documentId: string }) => result.documentId))].sort(), ids);

  const jobs = await call(after.api, 'GET', '/v1/jobs?kind=reembed', { token: owner.token, tenantId: owner.tenantId });
  t.is(jobs.body.jobs.length, 1);
  t.like(jobs.body.jobs[0], {
    workflowId: first.body.workflowId,
    runId: first.body.runId,
    subject: 'quarry-hash-256:256',
    status: 'completed',
  });
  // Counts only: the id the listing went on after may be a member's private document.
  t.deepEqual(jobs.body.jobs[0].progress, { reembedded: 2, failed: 0 });
  const job = await call(after.api, 'GET', `/v1/jobs/${jobs.body.jobs[0].id}`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.deepEqual(
    job.body.events.map((event: { step: string; status: string }) => `${event.step}:${event.status}`),
    [
      'job:started',
      'listDocumentsToReembed:started',
      'listDocumentsToReembed:completed',
      'listDocumentsToReembed:started',
      'listDocumentsToReembed:completed',
      'job:completed',
    ],
  );
});
