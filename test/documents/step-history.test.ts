// The step history accounts for every attempt: while the worker cannot reach PostgreSQL its
// attempts of a step fail without a trace in the database, and Temporal retries them. Once the
// database is back, the attempt that gets through writes each of them down first (`retrying`,
// recordedLate, reason `unrecorded`), the one just before it with the failure Temporal recorded.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { ingestionWorkflowId } from '../../workflow-client/ingestion-handle.ts';
import { call, startApi, tenantOwner } from '../api/harness.ts';
import { testConfig } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { documentSettings, postText, settled, startIngestionWorker } from './harness.ts';
import { held, holdInterceptor, release, type Hold } from './hold.ts';

/** Attempts of the step that must have failed while the database was unreachable. */
const FAILED_ATTEMPTS = 3;

interface StepEvent {
  step: string;
  activityId: string | null;
  status: string;
  attempt: number;
  message: string | null;
  details: Record<string, unknown>;
}

test('attempts made while the database was unreachable are written into the history once it is back', async (t) => {
  // Step by step (one activity per step), whatever the size: the hold is on chunkDocument.
  const settings = documentSettings({ INGESTION_HEARTBEAT_TIMEOUT_SECONDS: '2', INGESTION_ONE_STEP_MAX_BYTES: '0' });
  const database = new URL(testConfig(settings).DATABASE_URL!);
  const proxy = await startTcpProxy({ host: database.hostname, port: Number(database.port) });
  database.port = String(proxy.port);
  const hold: Hold = {
    activity: 'chunkDocument',
    when: 'before',
    dir: await mkdtemp(path.join(process.env.QUARRY_TEST_RUN_DIR ?? os.tmpdir(), 'hold-')),
  };
  const api = await startApi(settings);
  // Only the worker goes through the proxy: the API and the test read the database directly.
  const worker = await startIngestionWorker({ ...settings, DATABASE_URL: database.toString() }, [
    holdInterceptor(hold),
  ]);
  t.teardown(async () => {
    proxy.set('up');
    await worker.stop();
    await api.close();
    await proxy.close();
  });

  const owner = await tenantOwner(api);
  const created = await postText(api, owner, { title: 'Minutes', text: 'The board met on Tuesday.\n\nIt adjourned.' });
  t.is(created.status, 201);
  const id: string = created.body.id;
  await held(hold);
  proxy.set('down');
  await release(hold);

  // Temporal retries the step while every attempt fails to reach PostgreSQL.
  const workflow = api.temporal.client.workflow.getHandle(
    ingestionWorkflowId({ tenantId: owner.tenantId, documentId: id }),
  );
  for (;;) {
    const pending = (await workflow.describe()).raw.pendingActivities ?? [];
    const chunking = pending.find((activity) => activity.activityType?.name === 'chunkDocument');
    if ((chunking?.attempt ?? 0) > FAILED_ATTEMPTS) break;
    await sleep(100);
  }
  proxy.set('up');

  const detail = await settled(api, owner, id);
  t.like(detail.body, { status: 'completed' });
  const events = (detail.body.ingestion.events as StepEvent[]).filter((event) => event.step === 'chunkDocument');
  const last = Math.max(...events.map((event) => event.attempt));
  t.true(last > FAILED_ATTEMPTS, `last attempt ${last}`);
  const attempts = Array.from({ length: last - 1 }, (_, i) => i + 1);
  t.deepEqual(
    events.map((event) => `${event.status}:${event.attempt}`),
    [...attempts.map((attempt) => `retrying:${attempt}`), `started:${last}`, `completed:${last}`],
  );
  for (const attempt of attempts) {
    const late = events[attempt - 1]!;
    t.like(late.details, { recordedLate: true, reason: 'unrecorded', attempt });
  }
  // The attempt just before the one that got through carries the failure Temporal recorded for
  // it: the worker's error on reaching the database, not the generic text.
  const previous = events[last - 2]!;
  t.notRegex(previous.message ?? '', /ended without a record/);
  t.regex(previous.message ?? '', /connect|ECONN|terminated|socket|closed/i);
  // Every event of the step names its activity, the same one.
  t.is(new Set(events.map((event) => event.activityId)).size, 1);
  t.truthy(events[0]!.activityId);

  // /v1/jobs tells the same story.
  const job = await call(api, 'GET', `/v1/jobs/${detail.body.ingestion.id}`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.is(job.status, 200);
  t.deepEqual(
    (job.body.events as StepEvent[]).filter((event) => event.step === 'chunkDocument'),
    events,
  );
});
