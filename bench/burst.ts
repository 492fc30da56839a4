// `npm run bench:burst`: a burst of 100 concurrent uploads through the real HTTP API, with the
// API and the worker each a process of its own (as `npm run api` and `npm run worker` run them)
// on one PostgreSQL and one Temporal dev server. For each worker configuration, in the same run:
//   - a single upload's latency, the median of SINGLES uploads made one at a time (each waits
//     for its document to complete before the next), the baseline;
//   - BURST distinct small documents POSTed at once: the count of every status (each must be 201
//     or 202 with a document id; none 5xx), p50/p95/max latency, p95 against the single upload's,
//     the time until all are completed, and how long each run's first workflow task waited in
//     the task queue (schedule-to-start, from Temporal's history).
// The configurations: the SDK's defaults ("untuned", what main ran before the worker was sized)
// and the configuration's defaults ("tuned"). `-- --only tuned` runs one. Results go to
// bench/results/burst.{json,md}.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, projectRoot } from '../config.ts';
import { createDatabasePool } from '../db/pool.ts';
import { createTemporalClient } from '../workflow-client/connection.ts';
import { startApiProcess } from '../test/helpers/api-process.ts';
import { startBenchStack } from './lib/bench-stack.ts';
import { machine, ratio, seconds, writeResults } from './lib/results.ts';
import { median, percentile } from './lib/stats.ts';
import {
  benchDocuments,
  createBenchTenant,
  firstTaskWaits,
  signUpOwner,
  upload,
  waitForDocuments,
  type UploadAnswer,
} from './lib/uploads.ts';
import { superviseWorker } from './lib/worker-supervisor.ts';

const SINGLES = 5;
const BURST = 100;
const PARAGRAPHS = 4;
const COMPLETION_TIMEOUT_MS = 10 * 60_000;

/** Worker settings of each configuration measured (environment, as an operator sets it). */
const CONFIGURATIONS: Record<string, Record<string, string>> = {
  // The SDK's defaults, which the worker used before it was sized.
  untuned: {
    WORKER_WORKFLOW_TASK_SLOTS: '40',
    WORKER_ACTIVITY_TASK_SLOTS: '100',
    WORKER_WORKFLOW_TASK_POLLERS: '10',
    WORKER_ACTIVITY_TASK_POLLERS: '10',
  },
  // config.ts's defaults: autoscaling pollers.
  tuned: {},
};

interface PhaseFigures {
  readonly settings: Record<string, string>;
  readonly single: { readonly latenciesMs: readonly number[]; readonly medianMs: number };
  readonly burst: {
    readonly statusCounts: Record<string, number>;
    readonly withoutId: number;
    readonly p50Ms: number;
    readonly p95Ms: number;
    readonly maxMs: number;
    readonly p95ToSingle: number;
    readonly allCompletedMs: number;
    readonly completed: number;
    readonly firstTaskWaitP95Ms: number | null;
    readonly firstTaskWaitMaxMs: number | null;
  };
}

/** The median of each figure over the rounds of one configuration; status counts are summed. */
function medianFigures(figures: readonly PhaseFigures[]): PhaseFigures {
  const of = (pick: (figures: PhaseFigures) => number | null) => {
    const values = figures.map(pick).filter((value): value is number => value !== null);
    return values.length ? median(values) : null;
  };
  const statusCounts: Record<string, number> = {};
  for (const { burst } of figures) {
    for (const [status, count] of Object.entries(burst.statusCounts))
      statusCounts[status] = (statusCounts[status] ?? 0) + count;
  }
  const first = figures[0]!;
  return {
    settings: first.settings,
    single: {
      latenciesMs: figures.flatMap(({ single }) => single.latenciesMs),
      medianMs: of((f) => f.single.medianMs)!,
    },
    burst: {
      statusCounts,
      withoutId: figures.reduce((sum, { burst }) => sum + burst.withoutId, 0),
      p50Ms: of((f) => f.burst.p50Ms)!,
      p95Ms: of((f) => f.burst.p95Ms)!,
      maxMs: of((f) => f.burst.maxMs)!,
      p95ToSingle: of((f) => f.burst.p95ToSingle)!,
      allCompletedMs: of((f) => f.burst.allCompletedMs)!,
      completed: Math.min(...figures.map(({ burst }) => burst.completed)),
      firstTaskWaitP95Ms: of((f) => f.burst.firstTaskWaitP95Ms),
      firstTaskWaitMaxMs: of((f) => f.burst.firstTaskWaitMaxMs),
    },
  };
}

const { values: args } = parseArgs({
  options: { only: { type: 'string' }, rounds: { type: 'string', default: '2' } },
});
const phases = args.only ? args.only.split(',') : Object.keys(CONFIGURATIONS);
const ROUNDS = Number(args.rounds);

const started = Date.now();
const localDir = path.join(projectRoot, '.local');
const runDir = path.join(localDir, 'bench-runs', `burst-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(runDir, { recursive: true });
const stack = await startBenchStack(runDir, localDir, { persistTemporal: false });
const env: Record<string, string> = {
  ...stack.env,
  JWT_SECRET: randomBytes(32).toString('base64url'),
  JWT_TTL_SECONDS: '86400',
  BLOB_DIR: path.join(runDir, 'blobs'),
};
const config = loadConfig(env);
const pool = await createDatabasePool(stack.env.DATABASE_URL!, { maxPoolSize: 2 });
const temporal = await createTemporalClient(config);
const rounds: Record<string, PhaseFigures[]> = Object.fromEntries(phases.map((phase) => [phase, []]));
let failed = true;
try {
  // The configurations take turns, round after round, so that a change of the machine's load
  // (it is shared) falls on all of them alike.
  const turns = Array.from({ length: ROUNDS }, (_, round) => phases.map((phase) => ({ round, phase }))).flat();
  for (const [index, { round, phase }] of turns.entries()) {
    const settings = CONFIGURATIONS[phase];
    if (!settings) throw new Error(`no configuration ${phase}; there are ${Object.keys(CONFIGURATIONS).join(', ')}`);
    const phaseEnv = { ...env, ...settings };
    const api = await startApiProcess(phaseEnv);
    const worker = superviseWorker({
      env: phaseEnv,
      logFile: path.join(runDir, `worker-${phase}.log`),
      restartDelayMs: 1_000,
    });
    try {
      await worker.ready;
      const owner = await signUpOwner(api);
      const tenant = await createBenchTenant(api, owner, `Burst ${phase} ${round}`);
      const deadline = () => Date.now() + COMPLETION_TIMEOUT_MS;

      // Warm-up (the first run in a fresh worker loads the workflow bundle), then the baseline.
      const [warmUp, ...singles] = benchDocuments(100 + index, SINGLES + 1, PARAGRAPHS);
      let settled = 0;
      const singleAnswers: UploadAnswer[] = [];
      for (const [n, document] of [warmUp!, ...singles].entries()) {
        const answer = await upload(api, tenant, document);
        if (answer.status !== 201) throw new Error(`a single upload answered ${answer.status}`);
        await waitForDocuments(pool, tenant, ++settled, deadline());
        if (n > 0) singleAnswers.push(answer);
      }
      const singleMedian = median(singleAnswers.map((answer) => answer.ms));

      const documents = benchDocuments(200 + index, BURST, PARAGRAPHS);
      const burstStart = performance.now();
      const answers = await Promise.all(documents.map((document) => upload(api, tenant, document)));
      const done = await waitForDocuments(pool, tenant, settled + BURST, deadline());
      const latencies = answers.map((answer) => answer.ms);
      const statusCounts: Record<string, number> = {};
      for (const answer of answers) statusCounts[answer.status] = (statusCounts[answer.status] ?? 0) + 1;
      const ids = answers.flatMap((answer) => (answer.documentId ? [answer.documentId] : []));
      const waits = await firstTaskWaits(temporal.client, tenant.tenantId, ids).catch(() => []);
      const p95 = percentile(latencies, 0.95);
      const figures: PhaseFigures = {
        settings,
        single: { latenciesMs: singleAnswers.map((answer) => answer.ms), medianMs: singleMedian },
        burst: {
          statusCounts,
          withoutId: answers.filter((answer) => !answer.documentId).length,
          p50Ms: percentile(latencies, 0.5),
          p95Ms: p95,
          maxMs: Math.max(...latencies),
          p95ToSingle: p95 / singleMedian,
          allCompletedMs: done.at - burstStart,
          completed: (done.statuses.completed ?? 0) - settled,
          firstTaskWaitP95Ms: waits.length ? percentile(waits, 0.95) : null,
          firstTaskWaitMaxMs: waits.length ? Math.max(...waits) : null,
        },
      };
      rounds[phase]!.push(figures);
      console.error(`bench:burst ${phase}, round ${round + 1}/${ROUNDS}: ${JSON.stringify(figures)}`);
    } finally {
      await worker.stop();
      await api.stop();
    }
  }

  const results = Object.fromEntries(Object.entries(rounds).map(([phase, figures]) => [phase, medianFigures(figures)]));
  const rows = Object.entries(results).map(([phase, { single, burst }]) => {
    const statuses = Object.entries(burst.statusCounts)
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    const fine = Object.keys(burst.statusCounts).every((status) => status === '201' || status === '202');
    return [
      phase,
      `${single.medianMs.toFixed(0)} ms`,
      statuses,
      fine && burst.withoutId === 0 ? 'yes' : 'NO',
      seconds(burst.p50Ms),
      seconds(burst.p95Ms),
      seconds(burst.maxMs),
      ratio(burst.p95ToSingle),
      `${seconds(burst.allCompletedMs)} (${burst.completed}/${BURST})`,
      burst.firstTaskWaitP95Ms === null ? '–' : seconds(burst.firstTaskWaitP95Ms),
    ];
  });
  const markdown = [
    '# Burst of uploads (`npm run bench:burst`)',
    '',
    `${new Date().toISOString()} · ${machine()} · total time ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
    `${BURST} concurrent uploads of distinct small documents (${PARAGRAPHS} paragraphs, JSON text) through the HTTP ` +
      'API, with the API and the worker each a process of its own, on one PostgreSQL and one Temporal dev server. ' +
      `The single upload is the median of ${SINGLES} made one at a time, in the same run and configuration. ` +
      `Each configuration ran ${ROUNDS} rounds, taking turns with the others; every figure is the median over ` +
      'its rounds (statuses: summed). ' +
      'First-task wait: how long each run’s first workflow task sat in the task queue (Temporal history, p95).',
    '',
    '| Worker | Single upload | Burst statuses | All 201/202 with id | p50 | p95 | max | p95 / single | All completed after | First-task wait p95 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    'Settings of each configuration (unset: the defaults of config.ts):',
    '',
    ...Object.entries(results).map(([phase, { settings }]) => `- ${phase}: ${JSON.stringify(settings)}`),
    '',
  ].join('\n');
  const report = { generatedAt: new Date().toISOString(), machine: machine(), results, rounds };
  console.log(writeResults('burst', report, markdown));
  failed = false;
} finally {
  await Promise.allSettled([pool.end(), temporal.close()]);
  await stack.stop();
  if (!failed) rmSync(runDir, { recursive: true, force: true });
  else console.error(`bench:burst: logs kept in ${runDir}`);
  console.error(`bench:burst took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
