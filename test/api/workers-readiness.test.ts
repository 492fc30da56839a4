// Worker readiness with real workers on task queues of the file's own: /readyz/workers is 503
// naming the queues no worker polls, 200 once workers poll them all, and 503 again within a
// bound after one stops (Temporal keeps listing a gone poller for minutes; the check goes by when
// each last began a poll). /readyz keeps answering 200 throughout and only reports the queues.
import anyTest, { type TestFn } from 'ava';
import pino from 'pino';
import { createApp } from '../../api/app.ts';
import { createTemporalClient } from '../../workflow-client/connection.ts';
import { createPlatformWorker } from '../../worker.ts';
import { documentSettings, startIngestionWorker } from '../documents/harness.ts';
import { appPool, testConfig, uniqueTaskQueue } from '../helpers/stack.ts';
import { startTestWorker } from '../helpers/worker.ts';
import { call, serve, startApi, type ApiHarness, type Reply } from './harness.ts';

interface Context {
  readonly api: ApiHarness;
  readonly settings: Record<string, string>;
  readonly platformQueue: string;
  readonly ingestionQueue: string;
}

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  const settings = documentSettings({ PLATFORM_TASK_QUEUE: uniqueTaskQueue('platform') });
  t.context = {
    api: await startApi(settings),
    settings,
    platformQueue: settings.PLATFORM_TASK_QUEUE!,
    ingestionQueue: settings.INGESTION_TASK_QUEUE!,
  };
});

test.after.always(async (t) => {
  await t.context.api?.close();
});

/** Asks until `done` holds, once a second, for at most `boundMs`; the last reply and the time taken. */
async function pollUntil(api: ApiHarness, path: string, done: (reply: Reply) => boolean, boundMs: number) {
  const started = Date.now();
  for (;;) {
    const reply = await call(api, 'GET', path);
    const elapsedMs = Date.now() - started;
    if (done(reply) || elapsedMs > boundMs) return { reply, elapsedMs };
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

test.serial('without workers, /readyz/workers is 503 naming every queue and /readyz is 200 saying so', async (t) => {
  const { api, platformQueue, ingestionQueue } = t.context;
  const reply = await call(api, 'GET', '/readyz/workers');
  t.is(reply.status, 503);
  t.is(reply.headers.get('retry-after'), '5');
  t.is(reply.body.error.code, 'workers_unavailable');
  t.is(reply.body.error.message, `No worker polls task queue ${platformQueue}, ${ingestionQueue}`);
  t.deepEqual(reply.body.error.details.missing, [platformQueue, ingestionQueue]);
  t.deepEqual(
    reply.body.error.details.queues.map((queue: { taskQueue: string; polled: boolean }) => [
      queue.taskQueue,
      queue.polled,
    ]),
    [
      [platformQueue, false],
      [ingestionQueue, false],
    ],
  );

  const ready = await call(api, 'GET', '/readyz');
  t.is(ready.status, 200);
  t.deepEqual(ready.body.checks, { postgres: 'ok', temporal: 'ok' });
  t.is(ready.body.workers.status, 'not_ready');
  t.deepEqual(ready.body.workers.missing, [platformQueue, ingestionQueue]);
});

test.serial('workers polling every queue make it 200; a stopped one makes it 503 again within a bound', async (t) => {
  t.timeout(150_000);
  const { api, settings, platformQueue, ingestionQueue } = t.context;
  const platform = await startTestWorker(createPlatformWorker, { settings });
  t.teardown(() => platform.stop());
  const ingestion = await startIngestionWorker(settings);
  let stopped = false;
  t.teardown(() => (stopped ? undefined : ingestion.stop()));

  const up = await pollUntil(api, '/readyz/workers', (reply) => reply.status === 200, 15_000);
  t.is(up.reply.status, 200, JSON.stringify(up.reply.body));
  t.is(up.reply.body.status, 'ready');
  for (const [index, name] of [platformQueue, ingestionQueue].entries()) {
    const queue = up.reply.body.queues[index];
    t.is(queue.taskQueue, name);
    t.true(queue.polled);
    t.true(queue.workflow.pollers >= 1 && queue.activity.pollers >= 1, JSON.stringify(queue));
    t.true(Date.now() - Date.parse(queue.activity.lastPollAt) < 70_000);
  }
  const ready = await call(api, 'GET', '/readyz');
  t.is(ready.status, 200);
  t.is(ready.body.workers.status, 'ready');
  t.deepEqual(ready.body.workers.missing, []);

  await ingestion.stop();
  stopped = true;
  // Temporal still lists the stopped worker's pollers; their last poll ages past
  // WORKER_POLL_STALE_SECONDS (70 s), and the cached answer (2 s) expires.
  const boundMs = 70_000 + 2_000 + 3_000;
  const down = await pollUntil(api, '/readyz/workers', (reply) => reply.status === 503, boundMs);
  t.log(
    `ready ${(up.elapsedMs / 1000).toFixed(1)} s after start; not ready ${(down.elapsedMs / 1000).toFixed(1)} s after stop`,
  );
  t.is(down.reply.status, 503);
  t.true(down.elapsedMs <= boundMs);
  t.is(down.reply.body.error.code, 'workers_unavailable');
  t.deepEqual(down.reply.body.error.details.missing, [ingestionQueue]);
  const stale = down.reply.body.error.details.queues[1];
  t.false(stale.polled, JSON.stringify(stale));
  t.not(stale.activity.lastPollAt, null, 'Temporal still lists the gone poller');
});

test('/readyz/workers is 503 temporal_unavailable when Temporal cannot be asked', async (t) => {
  const config = testConfig(t.context.settings);
  const pool = await appPool();
  const temporal = await createTemporalClient(config);
  await temporal.close();
  const server = await serve(createApp({ config, pool, temporal: temporal.client, logger: pino({ level: 'silent' }) }));
  const reply = await call(server, 'GET', '/readyz/workers');
  await server.close();
  await pool.end();
  t.is(reply.status, 503);
  t.is(reply.headers.get('retry-after'), '5');
  t.is(reply.body.error.code, 'temporal_unavailable');
});
