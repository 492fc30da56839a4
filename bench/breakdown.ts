// `npm run bench:breakdown`: where a small document's time goes. Uploads SciFact abstracts (one
// to three chunks each) through the API, CONCURRENCY at a time, into a worker in this process, and
// reads each run's history from Temporal:
//   - per activity: the wait in the task queue (scheduled → started) and the run as Temporal saw
//     it (started → completed), beside the time the worker spent inside the activity (job-event
//     writes included), measured by an interceptor; the difference is dispatch and reporting;
//   - per workflow task: its wait in the queue and its run;
//   - documents per second, and the upload latency (p50/p95) during the import.
// Options: --documents N (200), --concurrency N (16), --embedder hash|onnx (hash: the pure cost
// of orchestration; onnx: the offline default, each chunk's inference on top), --batch N (0: each
// abstract its own upload; N: batches of N files through POST /v1/documents/batch, --concurrency
// requests at a time, the histories being the imports', their spans shared by their documents).
// Starts its own PostgreSQL and Temporal as `npm test` does; writes bench/results/breakdown.{json,md}.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { NativeConnection, type ActivityInterceptorsFactory } from '@temporalio/worker';
import type { temporal as proto } from '@temporalio/proto';
import pino from 'pino';
import { startApiServer } from '../api/server.ts';
import { loadConfig, projectRoot } from '../config.ts';
import { createDatabasePool } from '../db/pool.ts';
import { bundleWorkflows } from '../scripts/lib/bundle.ts';
import { startRunStack } from '../scripts/lib/stack.ts';
import { createTemporalClient } from '../workflow-client/connection.ts';
import { ingestionWorkflowId } from '../workflow-client/ingestion-handle.ts';
import { createIngestionWorker } from '../worker.ts';
import { documentText, readBeir } from './lib/beir.ts';
import { machine, writeResults } from './lib/results.ts';
import { mapLimit, mean, median, percentile } from './lib/stats.ts';
import { createBenchTenant, signUpOwner, upload, uploadBatch } from './lib/uploads.ts';

const { values: args } = parseArgs({
  options: {
    documents: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '16' },
    embedder: { type: 'string', default: 'hash' },
    batch: { type: 'string', default: '0' },
    dataset: { type: 'string', default: path.resolve(projectRoot, '..', 'shared', 'datasets', 'scifact') },
  },
});
const DOCUMENTS = Number(args.documents);
const CONCURRENCY = Number(args.concurrency);
const BATCH = Number(args.batch);
/** Histories read for the breakdown (each is a request to Temporal). */
const SAMPLE = Math.min(100, BATCH > 0 ? Math.ceil(DOCUMENTS / BATCH) : DOCUMENTS);
/** Documents one history covers (the last batch may hold fewer: a close enough share). */
const PER_HISTORY = BATCH > 0 ? Math.min(BATCH, DOCUMENTS) : 1;

/**
 * CPU seconds used so far by this process and each kind of its descendants (PostgreSQL's
 * processes, the Temporal server), from /proc: what the import costs each part of the stack.
 */
function cpuByProgram(runDir: string): Map<string, number> {
  const ticks = 100; // USER_HZ on Linux
  const processes = readdirSync('/proc')
    .filter((entry) => /^[0-9]+$/.test(entry))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const name = stat.slice(stat.indexOf('(') + 1, close);
        const fields = stat.slice(close + 2).split(' ');
        const cpu = (Number(fields[11]) + Number(fields[12])) / ticks;
        // PostgreSQL's postmaster is started by pg_ctl and leaves our tree: it is known by its data directory.
        const root = Number(pid) === process.pid || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(runDir);
        return [{ pid: Number(pid), name, ppid: Number(fields[1]), cpu, root }];
      } catch {
        return []; // gone meanwhile
      }
    });
  const parents = new Map(processes.map((entry) => [entry.pid, entry.ppid]));
  const roots = new Set(processes.filter((entry) => entry.root).map((entry) => entry.pid));
  const descends = (pid: number): boolean => {
    for (let current = pid; current > 1; current = parents.get(current) ?? 0) if (roots.has(current)) return true;
    return false;
  };
  const totals = new Map<string, number>();
  for (const entry of processes) {
    if (!descends(entry.pid)) continue;
    const program =
      entry.pid === process.pid ? 'node (API and worker)' : entry.name.startsWith('postgres') ? 'postgres' : entry.name;
    totals.set(program, (totals.get(program) ?? 0) + entry.cpu);
  }
  return totals;
}

const started = Date.now();
const localDir = path.join(projectRoot, '.local');
const runDir = path.join(localDir, 'bench-runs', `breakdown-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(runDir, { recursive: true });
const stack = await startRunStack(runDir, localDir);
const cleanup: (() => Promise<unknown>)[] = [];
let failed = true;
try {
  const config = loadConfig({
    ...stack.env,
    API_PORT: '0',
    LOG_LEVEL: 'silent',
    JWT_SECRET: randomBytes(32).toString('base64url'),
    BLOB_DIR: path.join(runDir, 'blobs'),
    EMBEDDING_PROVIDER: args.embedder,
    // INGESTION_ONE_STEP_MAX_BYTES=0 in the environment measures the step-by-step path.
    INGESTION_ONE_STEP_MAX_BYTES: process.env.INGESTION_ONE_STEP_MAX_BYTES,
  });
  const logger = pino({ level: 'silent' });
  const api = await startApiServer(config, logger);
  cleanup.push(() => api.close());
  const pool = await createDatabasePool(config.DATABASE_URL!, { maxPoolSize: 10 });
  const temporal = await createTemporalClient(config);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS! });
  const inside = new Map<string, number[]>();
  const timing: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        const begun = performance.now();
        try {
          return await next(input);
        } finally {
          const type = ctx.info.activityType;
          if (!inside.has(type)) inside.set(type, []);
          inside.get(type)!.push(performance.now() - begun);
        }
      },
    },
  });
  const worker = await createIngestionWorker({
    config,
    pool,
    temporal,
    connection,
    logger,
    workflowBundlePath: await bundleWorkflows(runDir),
    testInterceptors: [timing],
  });
  const running = worker.run();
  cleanup.push(async () => {
    worker.shutdown();
    await running;
    await Promise.all([connection.close(), temporal.close(), pool.end()]);
  });

  const tenant = await createBenchTenant(api, await signUpOwner(api), 'Breakdown');
  const corpus = readBeir(args.dataset).corpus.slice(0, DOCUMENTS);
  const cpuBefore = cpuByProgram(runDir);
  const begun = performance.now();
  const documents = corpus.map((document) => ({ title: document.title || document.id, text: documentText(document) }));
  let answers: { ms: number }[];
  let handles: WorkflowHandle[];
  if (BATCH > 0) {
    const batches = Array.from({ length: Math.ceil(documents.length / BATCH) }, (_, b) =>
      documents.slice(b * BATCH, (b + 1) * BATCH),
    );
    const replies = await mapLimit(batches, CONCURRENCY, (batch) => uploadBatch(api, tenant, batch));
    handles = replies.map((reply) => {
      if (reply.status !== 201 || !reply.workflowId) throw new Error(`batch answered ${reply.status}`);
      return temporal.client.workflow.getHandle(reply.workflowId);
    });
    answers = replies;
  } else {
    const uploads = await mapLimit(documents, CONCURRENCY, (document) => upload(api, tenant, document));
    handles = uploads.map((answer) => {
      if (answer.status !== 201 || !answer.documentId) throw new Error(`upload answered ${answer.status}`);
      return temporal.client.workflow.getHandle(
        ingestionWorkflowId({ tenantId: tenant.tenantId, documentId: answer.documentId }),
      );
    });
    answers = uploads;
  }
  await Promise.all(handles.map((handle) => handle.result()));
  const importSeconds = (performance.now() - begun) / 1000;
  const cpuMsPerDocument = Object.fromEntries(
    [...cpuByProgram(runDir)].map(([program, cpu]) => [
      program,
      ((cpu - (cpuBefore.get(program) ?? 0)) * 1000) / DOCUMENTS,
    ]),
  );

  const epochMs = (time: proto.api.history.v1.IHistoryEvent['eventTime']) =>
    Number(time?.seconds?.toString() ?? 0) * 1000 + (time?.nanos ?? 0) / 1e6;
  const spans = new Map<string, number[]>();
  const add = (name: string, value: number) => {
    if (!spans.has(name)) spans.set(name, []);
    spans.get(name)!.push(value);
  };
  for (const handle of handles.slice(0, SAMPLE)) {
    const events = (await handle.fetchHistory()).events ?? [];
    add('workflow run (first event to last)', epochMs(events.at(-1)?.eventTime) - epochMs(events[0]?.eventTime));
    const scheduled = new Map<string, { type: string; at: number; startedAt?: number }>();
    let taskScheduledAt = 0;
    let taskStartedAt = 0;
    for (const event of events) {
      const at = epochMs(event.eventTime);
      const activity = event.activityTaskScheduledEventAttributes;
      if (activity) scheduled.set(String(event.eventId), { type: activity.activityType?.name ?? '?', at });
      const start = event.activityTaskStartedEventAttributes;
      if (start) {
        const task = scheduled.get(String(start.scheduledEventId))!;
        task.startedAt = at;
        add(`${task.type}: queue`, at - task.at);
      }
      const end = event.activityTaskCompletedEventAttributes;
      if (end) {
        const task = scheduled.get(String(end.scheduledEventId))!;
        add(`${task.type}: run`, at - (task.startedAt ?? task.at));
      }
      if (event.workflowTaskScheduledEventAttributes) taskScheduledAt = at;
      if (event.workflowTaskStartedEventAttributes) {
        taskStartedAt = at;
        add('workflow tasks: queue', at - taskScheduledAt);
      }
      if (event.workflowTaskCompletedEventAttributes) add('workflow tasks: run', at - taskStartedAt);
    }
  }
  const perDocument = (values: readonly number[]) =>
    values.reduce((sum, value) => sum + value, 0) / (SAMPLE * PER_HISTORY);
  const rows = [...spans].map(([name, values]) => {
    const activity = name.endsWith(': run') ? inside.get(name.slice(0, -': run'.length)) : undefined;
    return {
      name,
      perDocumentMs: perDocument(values),
      medianMs: median(values),
      insideMedianMs: activity ? median(activity) : null,
    };
  });
  const uploadMs = answers.map((answer) => answer.ms);
  const report = {
    generatedAt: new Date().toISOString(),
    machine: machine(),
    settings: {
      documents: DOCUMENTS,
      oneStepMaxBytes: config.INGESTION_ONE_STEP_MAX_BYTES,
      concurrency: CONCURRENCY,
      batch: BATCH,
      embedder: config.EMBEDDING_MODEL,
      sample: SAMPLE,
    },
    documentsPerSecond: DOCUMENTS / importSeconds,
    cpuMsPerDocument,
    upload: { p50Ms: median(uploadMs), p95Ms: percentile(uploadMs, 95), meanMs: mean(uploadMs) },
    rows,
  };
  const ms = (value: number | null) => (value === null ? '' : value.toFixed(0));
  const markdown = [
    '# Where a small document’s time goes (`npm run bench:breakdown`)',
    '',
    (BATCH > 0
      ? `${DOCUMENTS} SciFact abstracts through \`POST /v1/documents/batch\`, ${BATCH} files a request, ${CONCURRENCY} requests at a time, embedder ${config.EMBEDDING_MODEL}; `
      : `${DOCUMENTS} SciFact abstracts through \`POST /v1/documents\`, ${CONCURRENCY} at a time, embedder ${config.EMBEDDING_MODEL}; `) +
      `histories of ${SAMPLE} runs. ${report.generatedAt}; ${report.machine}.`,
    '',
    `Import: **${report.documentsPerSecond.toFixed(2)} documents/s**; ${BATCH > 0 ? 'batch request' : 'upload'} p50 ${ms(report.upload.p50Ms)} ms, p95 ${ms(report.upload.p95Ms)} ms.`,
    '',
    `CPU per document (ms): ${Object.entries(cpuMsPerDocument)
      .filter(([, value]) => value >= 0.5)
      .map(([program, value]) => `${program} ${value.toFixed(0)}`)
      .join(', ')}.`,
    '',
    'Per span: the sum over a document’s run (per document), its median, and for an activity’s run the median ' +
      'time the worker spent inside it (job-event writes included); run minus inside is dispatch and reporting.',
    '',
    '| Span | ms per document | median ms | inside the activity, median ms |',
    '|---|---:|---:|---:|',
    ...rows.map(
      (row) => `| ${row.name} | ${ms(row.perDocumentMs)} | ${ms(row.medianMs)} | ${ms(row.insideMedianMs)} |`,
    ),
    '',
  ].join('\n');
  console.log(writeResults('breakdown', report, markdown));
  failed = false;
} finally {
  for (const step of cleanup.reverse()) await step().catch((error: unknown) => console.error(error));
  await stack.stop();
  if (!failed) rmSync(runDir, { recursive: true, force: true });
  console.error(`bench:breakdown took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
