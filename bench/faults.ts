// `npm run bench:faults`: the fault experiment of issue 7 on DOCUMENTS documents, in one run, with
// the API and the worker each a process of its own (the worker under a supervisor that starts
// it again 1 s after it ends, as a restart policy would):
//   - fault-free: the time from the first upload until every document is completed, T0;
//   - 3 worker kills: SIGKILL at 0.2, 0.45 and 0.7 × T0 (each at least 3 s after the previous
//     replacement polled);
//   - PostgreSQL stopped for 20 s (the real server: pg_ctl stop -m fast, then start on the same
//     port and data directory) at 0.3 × T0;
//   - the Temporal dev server restarted (SIGTERM; started again on the same port and SQLite file,
//     so history survives) at 0.3 × T0.
// Each run uploads the same documents into a tenant of its own through the HTTP API (a client
// retries a 5xx or a failed connection after its Retry-After), then reports its time as a ratio
// to T0, against the target of 2 × T0 plus the outage itself, and what it left behind, which
// must all be 0: documents not completed (lost), documents or chunks twice or with chunks other
// than the fault-free run's (duplicated), jobs without their document and blob folders without
// a row (orphaned). Results go to bench/results/faults.{json,md}.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, projectRoot } from '../config.ts';
import { createDatabasePool } from '../db/pool.ts';
import { startApiProcess } from '../test/helpers/api-process.ts';
import { startBenchStack } from './lib/bench-stack.ts';
import { auditTenant, mismatchedDocuments, type Audit } from './lib/ingestion-audit.ts';
import { machine, ratio, seconds, writeResults } from './lib/results.ts';
import { mapLimit } from './lib/stats.ts';
import {
  benchDocuments,
  createBenchTenant,
  signUpOwner,
  upload,
  waitForDocuments,
  type Owner,
  type UploadAnswer,
} from './lib/uploads.ts';
import { superviseWorker, type SupervisedWorker } from './lib/worker-supervisor.ts';

const DOCUMENTS = 100;
const PARAGRAPHS = 20;
const UPLOAD_CONCURRENCY = 10;
const KILLS_AT = [0.2, 0.45, 0.7];
const OUTAGE_AT = 0.3;
const POSTGRES_DOWN_MS = 20_000;
/** How long a run may take beyond its target before what is left counts as lost. */
const GRACE_MS = 8 * 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Fault {
  readonly name: string;
  readonly description: string;
  /** Injects the fault into a run that began at `begun` (performance.now()); answers the outage in ms. */
  inject(begun: number, t0: number): Promise<number>;
}

interface RunFigures {
  readonly name: string;
  readonly description: string;
  readonly ms: number;
  readonly outageMs: number;
  readonly ratioToFaultFree: number | null;
  readonly targetMs: number | null;
  readonly targetMet: boolean | null;
  readonly uploads: { readonly statuses: Record<string, number>; readonly retried: number; readonly withoutId: number };
  readonly lost: number;
  /** From the first document's row until 90% were completed: the tail is what the last ones waited. */
  readonly p90CompletedMs: number | null;
  readonly duplicated: {
    readonly documents: number;
    readonly chunkRows: number;
    readonly jobs: number;
    readonly chunksOtherThanFaultFree: number;
  };
  readonly orphaned: { readonly jobsWithoutDocument: number; readonly blobFoldersWithoutRow: number };
  readonly workerStarts: number;
}

const started = Date.now();
const localDir = path.join(projectRoot, '.local');
const runDir = path.join(localDir, 'bench-runs', `faults-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(runDir, { recursive: true });
const stack = await startBenchStack(runDir, localDir, { persistTemporal: true });
const blobDir = path.join(runDir, 'blobs');
const env: Record<string, string> = {
  ...stack.env,
  JWT_SECRET: randomBytes(32).toString('base64url'),
  JWT_TTL_SECONDS: '86400',
  BLOB_DIR: blobDir,
};
const config = loadConfig(env);
const pool = await createDatabasePool(config.DATABASE_URL!, { maxPoolSize: 2 });
const api = await startApiProcess(env);
const worker = superviseWorker({ env, logFile: path.join(runDir, 'worker.log'), restartDelayMs: 1_000 });
const documents = benchDocuments(7, DOCUMENTS, PARAGRAPHS);

/** Waits until `at` ms into the run that began at `begun`. */
const until = (begun: number, at: number) => sleep(Math.max(0, begun + at - performance.now()));

function killsFault(supervised: SupervisedWorker): Fault {
  return {
    name: '3 worker kills',
    description: `SIGKILL at ${KILLS_AT.join(', ')} × T0; the supervisor starts a new worker 1 s later`,
    async inject(begun, t0) {
      let down = 0;
      let earliest = 0;
      for (const at of KILLS_AT) {
        await until(begun, Math.max(at * t0, earliest));
        const killed = performance.now();
        const next = supervised.starts() + 1;
        await supervised.kill();
        // Should that replacement die before it polls, the next one's start ends the wait.
        await Promise.race([supervised.running(next), supervised.running(next + 1)]);
        down += performance.now() - killed;
        earliest = performance.now() - begun + 3_000;
      }
      return down;
    },
  };
}

const postgresFault: Fault = {
  name: 'PostgreSQL stopped 20 s',
  description: `pg_ctl stop -m fast at ${OUTAGE_AT} × T0, start again ${POSTGRES_DOWN_MS / 1000} s later`,
  async inject(begun, t0) {
    await until(begun, OUTAGE_AT * t0);
    const stopped = performance.now();
    stack.stopPostgres();
    await sleep(Math.max(0, stopped + POSTGRES_DOWN_MS - performance.now()));
    stack.startPostgres();
    return performance.now() - stopped;
  },
};

const temporalFault: Fault = {
  name: 'Temporal restarted',
  description: `SIGTERM at ${OUTAGE_AT} × T0, started again at once on the same port and SQLite file`,
  async inject(begun, t0) {
    await until(begun, OUTAGE_AT * t0);
    const stopped = performance.now();
    await stack.restartTemporal();
    return performance.now() - stopped;
  },
};

async function run(
  owner: Owner,
  fault: Fault | null,
  t0: number | null,
  reference: Audit | null,
): Promise<{ figures: RunFigures; audit: Audit }> {
  const name = fault?.name ?? 'fault-free';
  const tenant = await createBenchTenant(api, owner, name);
  const startsBefore = worker.starts();
  const begun = performance.now();
  const injected = fault && t0 !== null ? fault.inject(begun, t0) : Promise.resolve(0);
  const retryUntil = Date.now() + GRACE_MS;
  const answers: UploadAnswer[] = await mapLimit(documents, UPLOAD_CONCURRENCY, (document) =>
    upload(api, tenant, document, retryUntil),
  );
  const deadline = Date.now() + (t0 === null ? GRACE_MS : 2 * t0 + GRACE_MS);
  const done = await waitForDocuments(pool, tenant, DOCUMENTS, deadline);
  const outageMs = await injected;
  const ms = done.at - begun;
  // Whatever was still on its way when the wait ended has had its chance: audit what is there.
  const audit = await auditTenant(pool, tenant, blobDir);
  const statuses: Record<string, number> = {};
  for (const answer of answers) {
    for (const status of answer.statuses) statuses[status] = (statuses[status] ?? 0) + 1;
  }
  const targetMs = t0 === null ? null : 2 * t0 + outageMs;
  const figures: RunFigures = {
    name,
    description: fault?.description ?? 'no fault',
    ms,
    outageMs,
    ratioToFaultFree: t0 === null ? null : ms / t0,
    targetMs,
    targetMet: targetMs === null ? null : ms <= targetMs,
    uploads: {
      statuses,
      retried: answers.filter((answer) => answer.retries > 0).length,
      withoutId: answers.filter((answer) => !answer.documentId).length,
    },
    lost: DOCUMENTS - audit.completed,
    p90CompletedMs: audit.p90CompletedSeconds === null ? null : audit.p90CompletedSeconds * 1000,
    duplicated: {
      documents: audit.duplicateDocuments,
      chunkRows: audit.duplicateChunkRows,
      jobs: audit.duplicateJobs,
      chunksOtherThanFaultFree: reference ? mismatchedDocuments(audit, reference) : 0,
    },
    orphaned: { jobsWithoutDocument: audit.jobsWithoutDocument, blobFoldersWithoutRow: audit.blobFoldersWithoutRow },
    workerStarts: worker.starts() - startsBefore,
  };
  console.error(`bench:faults ${name}: ${JSON.stringify(figures)}`);
  return { figures, audit };
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((total, value) => total + value, 0);

function markdown(runs: readonly RunFigures[]): string {
  const faulted = runs.filter((figures) => figures.targetMet !== null);
  const met = faulted.filter((figures) => figures.targetMet);
  const clean = runs.every((figures) => figures.lost + sum(figures.duplicated) + sum(figures.orphaned) === 0);
  const rows = runs.map((figures) => {
    const statuses = Object.entries(figures.uploads.statuses)
      .map(([status, count]) => `${status === '0' ? 'no answer' : status}: ${count}`)
      .join(', ');
    return [
      figures.name,
      seconds(figures.ms),
      figures.p90CompletedMs === null ? '–' : seconds(figures.p90CompletedMs),
      figures.ratioToFaultFree === null ? '1.00×' : ratio(figures.ratioToFaultFree),
      figures.outageMs ? seconds(figures.outageMs) : '–',
      figures.targetMs === null ? '–' : `${seconds(figures.targetMs)}: ${figures.targetMet ? 'met' : '**not met**'}`,
      String(figures.lost),
      String(sum(figures.duplicated)),
      String(sum(figures.orphaned)),
      `${statuses}; ${figures.uploads.retried} retried, ${figures.uploads.withoutId} without a document id`,
      String(figures.workerStarts),
    ];
  });
  return [
    '# Faults during ingestion (`npm run bench:faults`)',
    '',
    `${new Date().toISOString()} · ${machine()} · total time ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
    `${DOCUMENTS} documents of ${PARAGRAPHS} paragraphs, uploaded ${UPLOAD_CONCURRENCY} at a time through the HTTP API ` +
      '(a 5xx or a failed connection is retried after its Retry-After), into a tenant per run; the API and the worker are ' +
      'processes of their own, the worker under a supervisor that starts it again 1 s after it ends. Time: from the ' +
      'first upload until every document is completed; 90% completed: from the first document row until 90% were ' +
      'completed (a long gap to the time is a tail of stranded documents). Target: 2 × the fault-free time plus the outage (for kills: ' +
      'from each SIGKILL until the replacement polls). Lost: documents not completed. Duplicated: documents, chunk rows ' +
      'or ingestion jobs twice, and completed documents whose chunks (ordinal, content, offsets, embedded) differ from ' +
      'the fault-free run. Orphaned: jobs without their document, blob folders without a row.',
    '',
    '| Run | Time | 90% completed | vs fault-free | Outage | Target | Lost | Duplicated | Orphaned | Upload answers | Worker starts |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    `Target met by ${met.length} of ${faulted.length} fault runs${
      met.length < faulted.length
        ? ` (not by: ${faulted
            .filter((figures) => !figures.targetMet)
            .map((figures) => figures.name)
            .join(', ')})`
        : ''
    }; lost, duplicated and orphaned all 0: ${clean ? 'yes' : '**no**'}.`,
    '',
    ...runs.map((figures) => `- ${figures.name}: ${figures.description}.`),
    '',
  ].join('\n');
}

let failed = true;
try {
  await worker.ready;
  const owner = await signUpOwner(api);
  const reference = await run(owner, null, null, null);
  const t0 = reference.figures.ms;
  const runs = [reference.figures];
  for (const fault of [killsFault(worker), postgresFault, temporalFault]) {
    runs.push((await run(owner, fault, t0, reference.audit)).figures);
  }
  const report = { generatedAt: new Date().toISOString(), machine: machine(), runs };
  console.log(writeResults('faults', report, markdown(runs)));
  failed = false;
} finally {
  await worker.stop();
  await api.stop();
  await pool.end().catch(() => undefined);
  await stack.stop();
  if (!failed) rmSync(runDir, { recursive: true, force: true });
  else console.error(`bench:faults: logs kept in ${runDir}`);
  console.error(`bench:faults took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
