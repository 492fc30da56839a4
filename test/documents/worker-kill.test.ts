// A worker killed mid-ingestion (SIGKILL, in a process of its own) and a new one started: the
// document completes with every chunk embedded once, and no (document, version, ordinal) twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { chunkDocument } from '../../rag/chunk.ts';
import { extractText } from '../../rag/extract/index.ts';
import { startApi, tenantOwner } from '../api/harness.ts';
import { defaultLimits } from '../rag/fixtures.ts';
import { OpenAIStandIn } from '../stubs/openai-server.ts';
import {
  chunkStats,
  documentSettings,
  postText,
  settled,
  startIngestionWorker,
  stepHistory,
  type RunningWorker,
} from './harness.ts';

const CHUNK_SIZE = 300;
const BATCH = 10;

/** Starts test/documents/worker-process.ts with these settings and waits until it polls. */
async function spawnWorker(settings: Record<string, string>): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import=tsx', script], {
    env: { ...process.env, ...settings },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: child.stdout })) if (line === 'ready') return child;
  throw new Error('the worker process ended before it was ready');
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('gave up waiting');
}

test('a worker killed mid-embedding is replaced, and the document completes without a duplicate chunk', async (t) => {
  const standIn = new OpenAIStandIn();
  const settings = documentSettings({
    EMBEDDING_PROVIDER: 'openai',
    OPENAI_BASE_URL: await standIn.start(),
    INGESTION_HEARTBEAT_TIMEOUT_SECONDS: '2',
    EMBED_BATCH_SIZE: String(BATCH),
    CHUNK_SIZE: String(CHUNK_SIZE),
    CHUNK_OVERLAP: '0',
  });
  const api = await startApi(settings);
  const doomed = await spawnWorker(settings);
  const replacements: RunningWorker[] = [];
  t.teardown(async () => {
    doomed.kill('SIGKILL');
    await Promise.all(replacements.map((worker) => worker.stop()));
    await api.close();
    await standIn.stop();
  });

  const text = Array.from(
    { length: 400 },
    (_, i) => `Entry ${i} (${randomBytes(4).toString('hex')}): the lock keeper logged ${i * 7} barges heading upriver.`,
  ).join('\n\n');
  const expected = (
    await chunkDocument(await extractText({ bytes: Buffer.from(text), filename: 'log.txt' }, defaultLimits), {
      chunkSize: CHUNK_SIZE,
      chunkOverlap: 0,
    })
  ).length;
  t.true(expected > 5 * BATCH, `${expected} chunks`);

  // The fourth batch's request hangs for a while: the worker is killed while it waits.
  standIn.failNext([
    ...Array.from({ length: 3 }, () => ({ endpoint: 'embeddings' as const, delayMs: 50 })),
    { endpoint: 'embeddings', delayMs: 5_000 },
  ]);
  const owner = await tenantOwner(api);
  const created = await postText(api, owner, { title: 'Lock log', text });
  t.is(created.status, 201);
  const id: string = created.body.id;
  const atKill = await until(
    () => chunkStats(api, owner, id),
    (stats) => (stats[0]?.embedded ?? 0) >= 3 * BATCH,
  );
  await new Promise((resolve) => setTimeout(resolve, 300)); // the fourth batch is now waiting on its request
  doomed.kill('SIGKILL');
  await once(doomed, 'exit');
  t.is(atKill[0]!.embedded, 3 * BATCH);

  replacements.push(await startIngestionWorker(settings));
  const detail = await settled(api, owner, id);
  t.like(detail.body, { status: 'completed', activeVersion: 1, chunkCount: expected });
  t.deepEqual(await chunkStats(api, owner, id), [{ version: 1, chunks: expected, embedded: expected, duplicates: 0 }]);
  // The batch that was running when the worker died ran again after its heartbeat went silent.
  const history = stepHistory(detail.body);
  t.true(history.includes('embedChunks:started:2'), history.join(', '));
  t.is(history.filter((step) => step === 'embedChunks:completed:1').length + 1, Math.ceil(expected / BATCH));
});
