// A worker killed (SIGKILL, in a process of its own) during a batch import's registration or one
// of its build groups, and a new one started: every document of the batch completes once, with
// no chunk twice, each with one job and one end in its history, and the import's own job says
// what became of the attempt that died.
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { IMPORT_BUILD_GROUP } from '../../workflows/import.ts';
import { call, startApi, tenantOwner } from '../api/harness.ts';
import { spawnWorkerProcess } from '../helpers/worker.ts';
import {
  chunkStats,
  documentSettings,
  postBatch,
  startIngestionWorker,
  stepHistory,
  type RunningWorker,
} from './harness.ts';
import { held, holdSettings, type Hold } from './hold.ts';

const HEARTBEAT_SECONDS = 2;
/** Two build groups: the first full, the second not. */
const FILES = IMPORT_BUILD_GROUP + 4;

async function killDuring(t: ExecutionContext, activity: 'registerBatch' | 'buildBatch', when: 'before' | 'after') {
  const settings = documentSettings({ INGESTION_HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_SECONDS) });
  const hold: Hold = {
    activity,
    when,
    dir: await mkdtemp(path.join(process.env.QUARRY_TEST_RUN_DIR ?? os.tmpdir(), 'hold-')),
  };
  const api = await startApi(settings);
  const doomed = await spawnWorkerProcess({ ...settings, ...holdSettings(hold) });
  const replacements: RunningWorker[] = [];
  t.teardown(async () => {
    doomed.kill('SIGKILL');
    await Promise.all(replacements.map((worker) => worker.stop()));
    await api.close();
  });

  const owner = await tenantOwner(api);
  const files = Array.from({ length: FILES }, (_, n) => ({
    name: `entry-${n}.txt`,
    type: 'text/plain',
    bytes: Buffer.from(`Harbour log entry ${n}: the keeper trimmed wick number ${n * 7} and logged the tide.\n`),
  }));
  // Not awaited: a held registration is answered once its retry has registered the batch.
  const reply = postBatch(api, owner, files, { key: `kill-${activity}-${when}` });
  await held(hold);
  // Held past its heartbeat timeout: the live worker's heartbeats keep the attempt its own.
  await sleep(2 * HEARTBEAT_SECONDS * 1000 + 500);
  doomed.kill('SIGKILL');
  await once(doomed, 'exit');
  replacements.push(await startIngestionWorker(settings));

  const { status, body } = await reply;
  t.is(status, 201, JSON.stringify(body));
  const items = body.documents!;
  t.true(items.every((item) => item.outcome === 'created' || item.outcome === 'queued'));
  const result = await api.temporal.client.workflow.getHandle(body.batch!.workflowId!).result();
  t.deepEqual(result, { total: FILES, completed: FILES, failed: 0, cancelled: 0, duplicates: 0 });

  for (const item of items) {
    const id = item.document?.id ?? item.id!;
    const detail = await call(api, 'GET', `/v1/documents/${id}`, { token: owner.token, tenantId: owner.tenantId });
    t.like(detail.body, { status: 'completed', activeVersion: 1, ingestion: { status: 'completed' } });
    const history = stepHistory(detail.body);
    const count = (entry: string) => history.filter((event) => event.startsWith(entry)).length;
    t.is(count('job:started'), 1, history.join(' '));
    t.is(count('job:completed'), 1, history.join(' '));
    t.is(count('registerDocument:completed'), 1, history.join(' '));
    t.is(count('buildDocument:completed'), 1, history.join(' '));
    const [stats, ...more] = await chunkStats(api, owner, id);
    t.is(more.length, 0);
    t.is(stats!.duplicates, 0);
    t.is(stats!.embedded, stats!.chunks);
  }
  // One document and one ingestion job per file, and one import job.
  const counts = await withTenant(api.pool, { tenantId: owner.tenantId, userId: owner.userId }, (tx) =>
    tx.one(sql.type(z.object({ documents: z.number(), ingestions: z.number(), imports: z.number() }))`
      SELECT (SELECT count(*)::int FROM documents) AS documents,
             (SELECT count(*)::int FROM jobs WHERE kind = 'ingestion') AS ingestions,
             (SELECT count(*)::int FROM jobs WHERE kind = 'import') AS imports
    `),
  );
  t.deepEqual(counts, { documents: FILES, ingestions: FILES, imports: 1 });

  // The import's job: the held attempt was lost, and its retry completed.
  const jobs = await call(api, 'GET', '/v1/jobs?kind=import', { token: owner.token, tenantId: owner.tenantId });
  const job = await call(api, 'GET', `/v1/jobs/${jobs.body.jobs[0].id}`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  const attempts = job.body.events
    .filter((event: { step: string }) => event.step === activity)
    .map((event: { status: string; attempt: number }) => `${event.status}:${event.attempt}`);
  const dead = when === 'after' ? ['started:1', 'completed:1', 'retrying:1'] : ['retrying:1'];
  t.deepEqual(attempts.slice(0, dead.length + 2), [...dead, 'started:2', 'completed:2']);
}

test.serial('a worker killed after registering a batch is replaced, and every document completes once', (t) =>
  killDuring(t, 'registerBatch', 'after'),
);
test.serial('a worker killed before building a group is replaced, and every document completes once', (t) =>
  killDuring(t, 'buildBatch', 'before'),
);
test.serial('a worker killed after building a group is replaced, and no document is built twice', (t) =>
  killDuring(t, 'buildBatch', 'after'),
);
