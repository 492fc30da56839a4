// A worker killed mid-ingestion (SIGKILL, in a process of its own) and a new one started: the
// document completes with every chunk embedded once, and no (document, version, ordinal) twice.
// Whatever step the worker died in, the step runs again within the heartbeat timeout and the
// first retry interval (seconds, not the start-to-close timeout's minutes), and the history says
// what became of the attempt that died.
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { msToNumber } from '@temporalio/common/lib/time.js';
import test, { type ExecutionContext } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { chunkDocument } from '../../rag/chunk.ts';
import { extractText } from '../../rag/extract/index.ts';
import { documentStep, extractionStep } from '../../workflows/activity-options.ts';
import { startApi, tenantOwner, type Account, type ApiHarness } from '../api/harness.ts';
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
import { held, holdSettings, type Hold } from './hold.ts';
import { spawnWorkerProcess } from '../helpers/worker.ts';

const CHUNK_SIZE = 300;
const BATCH = 10;
const HEARTBEAT_SECONDS = 2;
/**
 * What a recovery may take beyond the heartbeat timeout and the step's first retry interval:
 * Temporal noticing the silence (its timer queue), the replacement worker starting to poll, and
 * the second attempt recording its start.
 */
const SLACK_MS = 10_000;

/** Starts test/documents/worker-process.ts with these settings and waits until it polls. */
async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('gave up waiting');
}

test.serial(
  'a worker killed mid-embedding is replaced, and the document completes without a duplicate chunk',
  async (t) => {
    const standIn = new OpenAIStandIn();
    const settings = documentSettings({
      EMBEDDING_PROVIDER: 'openai',
      OPENAI_BASE_URL: await standIn.start(),
      INGESTION_HEARTBEAT_TIMEOUT_SECONDS: '2',
      // Step by step: the kill lands in an embedChunks activity of its own.
      INGESTION_ONE_STEP_MAX_BYTES: '0',
      EMBED_BATCH_SIZE: String(BATCH),
      CHUNK_SIZE: String(CHUNK_SIZE),
      CHUNK_OVERLAP: '0',
    });
    const api = await startApi(settings);
    const doomed = await spawnWorkerProcess(settings);
    const replacements: RunningWorker[] = [];
    t.teardown(async () => {
      doomed.kill('SIGKILL');
      await Promise.all(replacements.map((worker) => worker.stop()));
      await api.close();
      await standIn.stop();
    });

    const text = Array.from(
      { length: 400 },
      (_, i) =>
        `Entry ${i} (${randomBytes(4).toString('hex')}): the lock keeper logged ${i * 7} barges heading upriver.`,
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
    t.deepEqual(await chunkStats(api, owner, id), [
      { version: 1, chunks: expected, embedded: expected, duplicates: 0 },
    ]);
    // The batch that was running when the worker died ran again after its heartbeat went silent.
    const history = stepHistory(detail.body);
    t.true(history.includes('embedChunks:started:2'), history.join(', '));
    t.is(history.filter((step) => step === 'embedChunks:completed:1').length + 1, Math.ceil(expected / BATCH));
    // The attempt that died is in the history as lost, written by the attempt after it.
    const retried = eventsOf(detail.body, (event) => event.step === 'embedChunks' && event.attempt === 2);
    t.deepEqual(retried.map(statusAttempt), ['started:1', 'retrying:1', 'started:2', 'completed:2']);
    t.deepEqual(retried[1]!.details, {
      recordedLate: true,
      reason: 'worker_lost',
      attempt: 1,
    });
    t.is(retried[1]!.message, 'activity Heartbeat timeout');
  },
);

interface StepEvent {
  step: string;
  activityId: string | null;
  status: string;
  attempt: number;
  message: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

/** The events of the activity of the first event that matches, in order. */
function eventsOf(detail: { ingestion: { events: StepEvent[] } }, match: (event: StepEvent) => boolean): StepEvent[] {
  const first = detail.ingestion.events.find(match);
  if (!first?.activityId) return [];
  return detail.ingestion.events.filter((event) => event.activityId === first.activityId);
}

const statusAttempt = (event: StepEvent) => `${event.status}:${event.attempt}`;

const Count = z.object({ n: z.number() });

/** What the tenant holds: documents, ingestion jobs whose document does not exist, blob folders of none. */
async function footprint(api: ApiHarness, blobDir: string, owner: Account & { tenantId: string }) {
  const rows = await withTenant(api.owner, { tenantId: owner.tenantId, userId: owner.userId }, async (tx) => ({
    documents: await tx.any(sql.type(z.object({ id: z.string() }))`SELECT id FROM documents`),
    jobsWithoutSubject: await tx.oneFirst(sql.type(Count)`
      SELECT count(*)::int4 AS n FROM jobs j
      WHERE kind = 'ingestion' AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id::text = j.subject)
    `),
    jobs: await tx.oneFirst(sql.type(Count)`SELECT count(*)::int4 AS n FROM jobs WHERE kind = 'ingestion'`),
  }));
  const ids = new Set(rows.documents.map((row) => row.id));
  const folders = await readdir(path.join(blobDir, 'documents', owner.tenantId)).catch(() => []);
  return {
    documents: ids.size,
    jobs: rows.jobs,
    jobsWithoutSubject: rows.jobsWithoutSubject,
    blobFoldersWithoutRow: folders.filter((folder) => !ids.has(folder)).length,
  };
}

/** The lines of a lock keeper's log: one chunk of CHUNK_SIZE holds about three. */
function logText(entries: number): string {
  return Array.from(
    { length: entries },
    (_, i) => `Entry ${i} (${randomBytes(4).toString('hex')}): the lock keeper logged ${i * 7} barges heading upriver.`,
  ).join('\n\n');
}

async function expectedChunks(text: string): Promise<number> {
  const extracted = await extractText({ bytes: Buffer.from(text), filename: 'log.txt' }, defaultLimits);
  return (await chunkDocument(extracted, { chunkSize: CHUNK_SIZE, chunkOverlap: 0 })).length;
}

/**
 * Where each step is held when its worker is killed: after its body (its work done and recorded,
 * its completion never reported: the retry must redo it without doubling anything), or before it
 * (the attempt started in Temporal and nothing more). Each step's first retry interval is its preset's.
 * The document is small: the steps after registration are activities of their own when the run
 * goes step by step (oneStep false), and one buildDocument activity when it builds in one.
 */
const STEPS = [
  { activity: 'registerDocument', when: 'after', oneStep: true, firstRetry: documentStep.retry!.initialInterval! },
  { activity: 'extractDocument', when: 'before', oneStep: false, firstRetry: extractionStep.retry!.initialInterval! },
  { activity: 'chunkDocument', when: 'after', oneStep: false, firstRetry: documentStep.retry!.initialInterval! },
  { activity: 'embedChunks', when: 'before', oneStep: false, firstRetry: documentStep.retry!.initialInterval! },
  { activity: 'activateDocument', when: 'after', oneStep: false, firstRetry: documentStep.retry!.initialInterval! },
  { activity: 'buildDocument', when: 'before', oneStep: true, firstRetry: documentStep.retry!.initialInterval! },
  { activity: 'buildDocument', when: 'after', oneStep: true, firstRetry: documentStep.retry!.initialInterval! },
] as const;

async function killDuring(t: ExecutionContext, step: (typeof STEPS)[number]) {
  const settings = documentSettings({
    INGESTION_HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_SECONDS),
    EMBED_BATCH_SIZE: String(BATCH),
    CHUNK_SIZE: String(CHUNK_SIZE),
    CHUNK_OVERLAP: '0',
    ...(step.oneStep ? {} : { INGESTION_ONE_STEP_MAX_BYTES: '0' }),
  });
  const hold: Hold = {
    activity: step.activity,
    when: step.when,
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

  const text = logText(60);
  const expected = await expectedChunks(text);
  t.true(expected > BATCH, `${expected} chunks`);
  const owner = await tenantOwner(api);
  // Not awaited: a held registration is answered once its retry has registered the document.
  const upload = postText(api, owner, { title: 'Lock log', text });
  await held(hold);
  // Held past its heartbeat timeout: the live worker's heartbeats keep the attempt its own.
  await sleep(2 * HEARTBEAT_SECONDS * 1000 + 500);
  const killedAt = Date.now();
  doomed.kill('SIGKILL');
  await once(doomed, 'exit');
  replacements.push(await startIngestionWorker(settings));

  const created = await upload;
  t.true(created.status === 201 || created.status === 202, JSON.stringify(created.body));
  const id: string = created.body.id;
  const detail = await settled(api, owner, id);
  t.like(detail.body, { status: 'completed', activeVersion: 1, chunkCount: expected });
  t.deepEqual(await chunkStats(api, owner, id), [{ version: 1, chunks: expected, embedded: expected, duplicates: 0 }]);
  t.deepEqual(await footprint(api, settings.BLOB_DIR!, owner), {
    documents: 1,
    jobs: 1,
    jobsWithoutSubject: 0,
    blobFoldersWithoutRow: 0,
  });

  // The held attempt, then the one that replaced it; the dead one is accounted for in between.
  const events = eventsOf(detail.body, (event) => event.step === step.activity);
  const dead = step.when === 'after' ? ['started:1', 'completed:1', 'retrying:1'] : ['retrying:1'];
  t.deepEqual(events.map(statusAttempt), [...dead, 'started:2', 'completed:2']);
  const late = events.find((event) => event.status === 'retrying')!;
  t.deepEqual(late.details, {
    recordedLate: true,
    reason: step.when === 'after' ? 'completion_lost' : 'worker_lost',
    attempt: 1,
  });

  // The second attempt began after the kill (not while the held worker lived), and within the
  // heartbeat timeout plus the first retry interval plus slack.
  const second = events.find((event) => event.status === 'started' && event.attempt === 2)!;
  const recoveryMs = Date.parse(second.createdAt) - killedAt;
  const boundMs = HEARTBEAT_SECONDS * 1000 + msToNumber(step.firstRetry) + SLACK_MS;
  t.log(`${step.activity}: second attempt ${recoveryMs} ms after the kill (bound ${boundMs} ms)`);
  t.true(recoveryMs >= 0, `${recoveryMs} ms`);
  t.true(recoveryMs <= boundMs, `${recoveryMs} ms > ${boundMs} ms`);
}

for (const step of STEPS) {
  const moment = step.activity === 'buildDocument' ? ` (${step.when} its steps)` : '';
  test.serial(
    `a worker killed during ${step.activity}${moment} is replaced within seconds, and the job completes`,
    (t) => killDuring(t, step),
  );
}
