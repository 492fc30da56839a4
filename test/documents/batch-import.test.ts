// POST /v1/documents/batch: each file answered on its own (created, existing, duplicate,
// refused), the small ones built by one import run that they share, a larger one by a run of
// its own, and every document with its own status, job and step history, as if uploaded alone.
import anyTest, { type TestFn } from 'ava';
import { call, tenantOwner } from '../api/harness.ts';
import { readFixture } from '../rag/fixtures.ts';
import { importWorkflowId } from '../../workflow-client/documents.ts';
import {
  BUILD_STEPS,
  buildHistory,
  chunkStats,
  filesBelow,
  postBatch,
  settled,
  stepHistory,
  uploadFile,
  withDocuments,
  type DocumentsTestContext,
} from './harness.ts';

// A batch of at most forty files; handbook.docx (3,010 bytes) is over the one-step size.
const test = withDocuments(anyTest as TestFn<DocumentsTestContext>, {
  BATCH_UPLOAD_MAX_FILES: '40',
  INGESTION_ONE_STEP_MAX_BYTES: '2048',
});

type Owner = Awaited<ReturnType<typeof tenantOwner>>;

function get(api: { url: string }, owner: Owner, id: string) {
  return call(api, 'GET', `/v1/documents/${id}`, { token: owner.token, tenantId: owner.tenantId });
}

/** The step history of a document built by an import: its registration, then its build's steps. */
const BUILT = [
  'job:started:1',
  'registerDocument:started:1',
  'registerDocument:completed:1',
  ...buildHistory(true, BUILD_STEPS),
  'job:completed:1',
];

test('each file of a batch is answered on its own, and each document keeps its own job and history', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const before = await uploadFile(api, owner, { filename: 'orchard.html', bytes: await readFixture('orchard.html') });
  t.is(before.status, 201);

  const reply = await postBatch(
    api,
    owner,
    [
      { name: 'notes.txt', type: 'text/plain' },
      { name: 'guide.md' },
      { name: 'corrupt.pdf', type: 'application/pdf' },
      { name: 'image.png', type: 'image/png' },
      { name: 'notes.txt', type: 'text/plain' },
      { name: 'orchard.html' },
    ],
    { fields: { tags: 'import,batch' } },
  );
  t.is(reply.status, 201);
  const items = reply.body.documents!;
  t.deepEqual(
    items.map((item) => [item.index, item.filename, item.outcome]),
    [
      [0, 'notes.txt', 'created'],
      [1, 'guide.md', 'created'],
      [2, 'corrupt.pdf', 'created'],
      [3, 'image.png', 'refused'],
      [4, 'notes.txt', 'duplicate'],
      [5, 'orchard.html', 'existing'],
    ],
  );
  t.like(items[3]!.error, { status: 415, code: 'unsupported_format' });
  t.is(items[4]!.of, 0);
  t.is(items[5]!.document!.id, before.body.id);
  t.like(items[0]!.document, { status: 'processing', title: 'notes.txt' });

  const { batch } = reply.body;
  t.is(batch!.workflowId, importWorkflowId(owner.tenantId, batch!.id));
  const result = await api.temporal.client.workflow.getHandle(batch!.workflowId!).result();
  t.deepEqual(result, { total: 3, completed: 2, failed: 1, cancelled: 0, duplicates: 0 });

  for (const item of items.slice(0, 2)) {
    const detail = await get(api, owner, item.document!.id);
    t.like(detail.body, { status: 'completed', tags: ['import', 'batch'], ingestion: { status: 'completed' } });
    t.deepEqual(stepHistory(detail.body), BUILT, item.filename!);
    const [stats] = await chunkStats(api, { tenantId: owner.tenantId, userId: owner.userId }, item.document!.id);
    t.true(stats!.chunks > 0);
    t.is(stats!.embedded, stats!.chunks);
    t.is(stats!.duplicates, 0);
  }
  const corrupt = await get(api, owner, items[2]!.document!.id);
  t.like(corrupt.body, { status: 'failed', ingestion: { status: 'failed' } });
  t.regex(corrupt.body.error, /pdf/i);
  t.deepEqual(stepHistory(corrupt.body), [
    'job:started:1',
    'registerDocument:started:1',
    'registerDocument:completed:1',
    'buildDocument:started:1',
    'extractDocument:started:1',
    'extractDocument:failed:1',
    'buildDocument:failed:1',
    'job:failed:1',
  ]);
  t.is(corrupt.body.ingestion.error, corrupt.body.error);

  // The import is a job of its own, beside the documents'.
  const jobs = await call(api, 'GET', '/v1/jobs?kind=import', { token: owner.token, tenantId: owner.tenantId });
  t.like(jobs.body.jobs[0], { kind: 'import', subject: batch!.id, status: 'completed' });
  // Found by search like any document.
  const search = await call(api, 'POST', '/v1/search', {
    token: owner.token,
    tenantId: owner.tenantId,
    body: { query: 'Fresnel lens lighthouse keeper', mode: 'lexical' },
  });
  t.true(search.body.results.some((hit: { documentId: string }) => hit.documentId === items[0]!.document!.id));
});

test('a larger file of a batch gets an ingestion run of its own; a repeated batch under its key attaches', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const files = [{ name: 'shift-log.txt', type: 'text/plain' }, { name: 'handbook.docx' }];
  const first = await postBatch(api, owner, files, { key: 'batch-key-1' });
  t.is(first.status, 201);
  const [small, large] = first.body.documents!;
  t.is(small!.outcome, 'created');
  t.is(large!.outcome, 'created');
  const detail = await settled(api, owner, large!.document!.id);
  t.like(detail.body, { status: 'completed' });
  t.is(stepHistory(detail.body)[1], 'registerDocument:started:1', 'its own run registers it with an activity');
  await api.temporal.client.workflow.getHandle(first.body.batch!.workflowId!).result();

  const again = await postBatch(api, owner, files, { key: 'batch-key-1' });
  t.is(again.status, 200);
  t.is(again.body.batch!.id, first.body.batch!.id);
  t.deepEqual(
    again.body.documents!.map((item) => [item.outcome, item.document?.id]),
    [
      ['existing', small!.document!.id],
      ['existing', large!.document!.id],
    ],
  );
  t.like((await get(api, owner, small!.document!.id)).body, { status: 'completed' });
});

// Serial: the blob directory is compared before and after, with no other upload meanwhile.
test.serial('a batch of more files than allowed is refused whole, leaving no blob', async (t) => {
  const { api, blobDir } = t.context.docs;
  const owner = await tenantOwner(api);
  const before = await filesBelow(blobDir);
  const files = Array.from({ length: 41 }, (_, n) => ({ name: `note-${n}.txt`, bytes: Buffer.from(`note ${n}`) }));
  const reply = await postBatch(api, owner, files);
  t.is(reply.status, 400);
  t.is(reply.body.error!.code, 'too_many_files');
  t.deepEqual(await filesBelow(blobDir), before);

  const none = await postBatch(api, owner, []);
  t.is(none.status, 400);
});

test('a batch where no file is new answers 200 and starts no import', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const reply = await postBatch(api, owner, [{ name: 'image.png', type: 'image/png' }]);
  t.is(reply.status, 200);
  t.is(reply.body.batch!.workflowId, null);
  t.is(reply.body.documents![0]!.outcome, 'refused');
});

test('a document of a batch cancelled before its group is built ends cancelled, and the others complete', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const files = Array.from({ length: 40 }, (_, n) => ({
    name: `tide-${n}.txt`,
    type: 'text/plain',
    bytes: Buffer.from(`Tide table entry ${n}: high water at ${n % 12}:${String(n % 60).padStart(2, '0')}.\n`),
  }));
  const reply = await postBatch(api, owner, files, { fields: { tags: 'tides' } });
  t.is(reply.status, 201);
  // The last file is in the third group of sixteen: not built yet.
  const last = reply.body.documents!.at(-1)!.document!.id;
  const cancel = await call(api, 'POST', `/v1/documents/${last}/cancel`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.true(cancel.status === 200 || cancel.status === 202, JSON.stringify(cancel.body));
  const result = await api.temporal.client.workflow.getHandle(reply.body.batch!.workflowId!).result();
  t.deepEqual(result, { total: 40, completed: 39, failed: 0, cancelled: 1, duplicates: 0 });
  const detail = await get(api, owner, last);
  t.like(detail.body, { status: 'cancelled', activeVersion: null, ingestion: { status: 'cancelled' } });
  t.deepEqual(stepHistory(detail.body), [
    'job:started:1',
    'registerDocument:started:1',
    'registerDocument:completed:1',
    'job:cancelled:1',
  ]);
  const again = await call(api, 'POST', `/v1/documents/${last}/cancel`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.is(again.status, 409);
});
