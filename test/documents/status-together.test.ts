// A document's status and its ingestion job's change together: the run's last step writes both in
// one transaction, and GET /v1/documents/:id reads both from one snapshot. Held right after that
// step (before the workflow's own end), the document, its ingestion and /v1/jobs already agree.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { call, tenantOwner, type Account } from '../api/harness.ts';
import { held, holdInterceptor, release, type Hold } from './hold.ts';
import {
  settled,
  startDocuments,
  startIngestionWorker,
  stepHistory,
  uploadFile,
  type DocumentsHarness,
  type RunningWorker,
} from './harness.ts';

interface Context {
  docs: DocumentsHarness;
  worker: RunningWorker;
  holds: { activate: Hold; settle: Hold };
}

const test = anyTest as TestFn<Context>;
type Owner = Account & { tenantId: string };

const holdDir = () => mkdtemp(path.join(process.env.QUARRY_TEST_RUN_DIR ?? os.tmpdir(), 'hold-'));

test.before(async (t) => {
  // Step by step (one activity per step), whatever the size: the hold is on activateDocument.
  const docs = await startDocuments({ INGESTION_ONE_STEP_MAX_BYTES: '0' }, { worker: false });
  const holds = {
    activate: { activity: 'activateDocument', when: 'after', dir: await holdDir() },
    settle: { activity: 'settleDocument', when: 'after', dir: await holdDir() },
  } as const;
  const worker = await startIngestionWorker(docs.settings, [
    holdInterceptor(holds.activate),
    holdInterceptor(holds.settle),
  ]);
  t.context = { docs, worker, holds };
});

test.after.always(async (t) => {
  await t.context.worker?.stop();
  await t.context.docs?.close();
});

/** The document, its latest ingestion as the document shows it, and the same job as /v1/jobs shows it. */
async function readBoth(docs: DocumentsHarness, owner: Owner, id: string) {
  const caller = { token: owner.token, tenantId: owner.tenantId };
  const detail = await call(docs.api, 'GET', `/v1/documents/${id}`, caller);
  const job = await call(docs.api, 'GET', `/v1/jobs/${detail.body.ingestion.id}`, caller);
  return {
    document: detail.body.status,
    ingestion: { status: detail.body.ingestion.status, finished: detail.body.ingestion.finishedAt !== null },
    job: { status: job.body.status, finished: job.body.finishedAt !== null },
  };
}

test.serial('a document shows completed only beside a completed ingestion job', async (t) => {
  const { docs, holds } = t.context;
  // Let go however the test ends, so that the worker can stop.
  t.teardown(() => release(holds.activate));
  const owner = await tenantOwner(docs.api, 'together');
  const bytes = Buffer.from(`The granary ledger lists barley, oats and rye (${randomUUID()}).`);
  const created = await uploadFile(docs.api, owner, { filename: 'ledger.txt', bytes, mimeType: 'text/plain' });
  t.is(created.status, 201, JSON.stringify(created.body));

  // Activation is done and recorded; the workflow has not reported the job's end yet.
  await held(holds.activate);
  t.deepEqual(await readBoth(docs, owner, created.body.id), {
    document: 'completed',
    ingestion: { status: 'completed', finished: true },
    job: { status: 'completed', finished: true },
  });

  await release(holds.activate);
  const done = await settled(docs.api, owner, created.body.id);
  t.like(done.body, { status: 'completed', ingestion: { status: 'completed', error: null } });
  // The job's end event still comes after its steps', once.
  t.deepEqual(stepHistory(done.body).slice(-3), [
    'activateDocument:started:1',
    'activateDocument:completed:1',
    'job:completed:1',
  ]);
});

test.serial('a document shows failed only beside a failed ingestion job, with its reason', async (t) => {
  const { docs, holds } = t.context;
  t.teardown(() => release(holds.settle));
  const owner = await tenantOwner(docs.api, 'together-failed');
  const bytes = Buffer.from(`{"ledger": "barley, oats and rye" ${randomUUID()}`);
  const created = await uploadFile(docs.api, owner, { filename: 'ledger.json', bytes, mimeType: 'application/json' });
  t.is(created.status, 201, JSON.stringify(created.body));

  await held(holds.settle);
  t.deepEqual(await readBoth(docs, owner, created.body.id), {
    document: 'failed',
    ingestion: { status: 'failed', finished: true },
    job: { status: 'failed', finished: true },
  });

  await release(holds.settle);
  const done = await settled(docs.api, owner, created.body.id);
  t.is(done.body.status, 'failed');
  t.is(done.body.ingestion.error, done.body.error);
  t.deepEqual(stepHistory(done.body).slice(-3), [
    'settleDocument:started:1',
    'settleDocument:completed:1',
    'job:failed:1',
  ]);
});
