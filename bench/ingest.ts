// `npm run bench:ingest`: ingestion throughput, in the same run and on the same rows:
//   - end to end: documents POSTed to the API, ingested by the workflow (Temporal) with the
//     local embedder, written to PostgreSQL under RLS: chunks per second until every run closed;
//   - the write path alone, rows per second: INSERT … SELECT as quarry_app under withTenant, and
//     the ingestion's own two-step path (chunk rows, then vectors), against the baseline of a
//     binary COPY of the same rows by the table owner into a copy of `chunks` without RLS;
//   - the offline neural embedder (ONNX all-MiniLM-L6-v2, in its thread, with the configured
//     threads and batching): 256-token passages per second and CPU time per passage, and the
//     process's resident memory with the model loaded.
//   - P4, two sizes: SciFact abstracts (one to three chunks each, SMALL_CONCURRENCY at a time)
//     and the large documents above (50+ chunks each), end to end against the same documents
//     pushed through the same pipeline in-process (bench/lib/in-process.ts: the activity
//     functions one after the other, no Temporal, no HTTP), at the same concurrency, in the same
//     round, into a tenant of its own (so content deduplication does not meet the other's
//     copies). The two go first by turns from round to round. Other abstracts go through the
//     batch import as well (POST /v1/documents/batch, BATCH_FILES a request), against the same
//     abstracts in-process.
// The end-to-end runs use the hash embedder, so that they measure the orchestration and the
// writes; with the neural model every chunk costs its inference (the figure above) on top.
// Starts its own PostgreSQL and Temporal as `npm test` does, runs one warm-up round and RUNS
// measured ones, prints the medians and writes them to bench/results/ingest.{json,md}.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import pg from 'pg';
import pino from 'pino';
import { startApiServer } from '../api/server.ts';
import { loadConfig, projectRoot } from '../config.ts';
import { createDatabasePool } from '../db/pool.ts';
import { createEmbedder } from '../rag/embed/factory.ts';
import { LocalHashEmbedder } from '../rag/embed/local-hash.ts';
import { bundleWorkflows } from '../scripts/lib/bundle.ts';
import { startRunStack } from '../scripts/lib/stack.ts';
import { createTemporalClient } from '../workflow-client/connection.ts';
import { ingestionWorkflowId } from '../workflow-client/ingestion-handle.ts';
import { call } from '../test/api/harness.ts';
import { createIngestionWorker } from '../worker.ts';
import { readBeir, documentText } from './lib/beir.ts';
import { chunkText, createCorpusModel, seededRandom } from './lib/corpus.ts';
import { createInProcessPipeline } from './lib/in-process.ts';
import { LocalBlobStore } from '../storage/local-blob-store.ts';
import { writeReport, type IngestReport, type RoundFigures } from './lib/ingest-report.ts';
import { mapLimit, median } from './lib/stats.ts';
import { uploadBatch } from './lib/uploads.ts';
import {
  copyBaseline,
  createCopyTable,
  ingestionPath,
  insertSelectPath,
  producedChunks,
  removeShadows,
} from './lib/write-path.ts';

interface Created {
  readonly id: string;
}
interface LoginReply {
  readonly token: string;
  readonly user: Created;
}

/**
 * Even: each side of a P4 pair goes first in as many rounds as it goes second. The order matters:
 * whichever goes first pays for the round's earlier writes (a ratio swung 0.5 ↔ 0.8 with it), so
 * the report's ratio is taken over rounds of both orders (ingest-report.ts).
 */
const RUNS = 6;
const DOCUMENTS = 24;
const PARAGRAPHS = 60;
const CONCURRENCY = 6;
/** Passages of 256 tokens (the model's limit: longer texts are cut) embedded per round. */
const PASSAGES = 48;
/** Small documents per round (SciFact abstracts), and how many are in flight at once. */
const SMALL_DOCUMENTS = 96;
const SMALL_CONCURRENCY = 16;
/** Batch imports: files per request, and requests in flight (the in-process side runs SMALL_CONCURRENCY at a time). */
const BATCH_FILES = 48;
const BATCH_REQUESTS = 2;
const SCIFACT = path.resolve(projectRoot, '..', 'shared', 'datasets', 'scifact');

const started = Date.now();
const localDir = path.join(projectRoot, '.local');
const runDir = path.join(localDir, 'bench-runs', `ingest-${new Date().toISOString().replace(/[:.]/g, '-')}`);
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
    EMBEDDING_PROVIDER: 'hash',
    // INGESTION_ONE_STEP_MAX_BYTES in the environment sets where one-step builds end.
    INGESTION_ONE_STEP_MAX_BYTES: process.env.INGESTION_ONE_STEP_MAX_BYTES,
  });
  const onnxConfig = loadConfig({ EMBEDDING_PROVIDER: 'onnx' });
  const logger = pino({ level: 'silent' });
  const bundle = await bundleWorkflows(runDir);

  const api = await startApiServer(config, logger);
  cleanup.push(() => api.close());
  const pool = await createDatabasePool(config.DATABASE_URL!, { maxPoolSize: 10 });
  const temporal = await createTemporalClient(config);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS! });
  const worker = await createIngestionWorker({
    config,
    pool,
    temporal,
    connection,
    logger,
    workflowBundlePath: bundle,
  });
  const running = worker.run();
  cleanup.push(async () => {
    worker.shutdown();
    await running;
    await Promise.all([connection.close(), temporal.close(), pool.end()]);
  });
  const owner = new pg.Client({ connectionString: config.MIGRATION_DATABASE_URL });
  await owner.connect();
  cleanup.push(() => owner.end());
  await createCopyTable(owner);

  // A tenant and its owner, through the API as a client would.
  const credentials = { email: `bench-${randomBytes(4).toString('hex')}@bench.test`, password: 'bench-password-1' };
  await call(api, 'POST', '/v1/auth/register', { body: credentials });
  const login = (await call(api, 'POST', '/v1/auth/login', { body: credentials })).body as LoginReply;
  const { token } = login;
  const tenant = (await call(api, 'POST', '/v1/tenants', { token, body: { name: 'Bench' } })).body as Created;
  const tenantId = tenant.id;
  const scope = { tenantId, userId: login.user.id };
  // The in-process pipeline's tenant, of the same owner.
  const inProcessTenant = (await call(api, 'POST', '/v1/tenants', { token, body: { name: 'Bench in-process' } }))
    .body as Created;
  const pipelinePool = await createDatabasePool(config.DATABASE_URL!, { maxPoolSize: 10 });
  cleanup.push(() => pipelinePool.end());
  const pipeline = createInProcessPipeline({
    config,
    pool: pipelinePool,
    blobs: new LocalBlobStore(config.BLOB_DIR),
    embedder: new LocalHashEmbedder({ model: config.EMBEDDING_MODEL, dimensions: config.EMBEDDING_DIMENSIONS }),
  });
  const abstracts = readBeir(SCIFACT).corpus.map((document) => ({
    title: document.title,
    text: documentText(document),
  }));

  /** Uploads `documents` through the API, `concurrency` at a time, and waits for every run. */
  const endToEnd = async (documents: readonly { title: string; text: string }[], concurrency: number) => {
    const ids = await mapLimit(documents, concurrency, async (document) => {
      const created = await call(api, 'POST', '/v1/documents', { token, tenantId, body: document });
      if (created.status !== 201) throw new Error(`upload failed: ${JSON.stringify(created.body)}`);
      const { id } = created.body as Created;
      await temporal.client.workflow.getHandle(ingestionWorkflowId({ tenantId, documentId: id })).result();
      return id;
    });
    return ids;
  };
  /** Sends `documents` as batches of BATCH_FILES text files, BATCH_REQUESTS at a time, and waits for every import. */
  const endToEndBatch = async (documents: readonly { title: string; text: string }[]) => {
    const batches = Array.from({ length: Math.ceil(documents.length / BATCH_FILES) }, (_, b) =>
      documents.slice(b * BATCH_FILES, (b + 1) * BATCH_FILES),
    );
    await mapLimit(batches, BATCH_REQUESTS, async (batch) => {
      const reply = await uploadBatch(api, { token, userId: login.user.id, tenantId }, batch);
      if (reply.status !== 201 || !reply.workflowId) throw new Error(`batch failed: ${JSON.stringify(reply)}`);
      const result = (await temporal.client.workflow.getHandle(reply.workflowId).result()) as { failed: number };
      if (result.failed > 0) throw new Error(`documents of a batch failed: ${JSON.stringify(result)}`);
    });
  };
  /** Documents per second of `run`. */
  const rateOf = async (count: number, run: () => Promise<unknown>) => {
    const start = performance.now();
    await run();
    return count / ((performance.now() - start) / 1000);
  };
  /** Both paths over the same documents, the first by turns; documents per second of each. */
  const p4 = async (
    documents: readonly { title: string; text: string }[],
    concurrency: number,
    round: number,
    viaApi: (documents: readonly { title: string; text: string }[]) => Promise<string[] | void> = (docs) =>
      endToEnd(docs, concurrency),
  ) => {
    const inProcess = () =>
      rateOf(documents.length, () =>
        mapLimit(documents, concurrency, (document) => pipeline.ingest(inProcessTenant.id, login.user.id, document)),
      );
    let ids: string[] = [];
    const e2e = () =>
      rateOf(documents.length, async () => {
        ids = (await viaApi(documents)) ?? [];
      });
    if (round % 2 === 0) {
      const inProcessRate = await inProcess();
      return { inProcess: inProcessRate, endToEnd: await e2e(), ids };
    }
    const endToEndRate = await e2e();
    return { inProcess: await inProcess(), endToEnd: endToEndRate, ids };
  };

  const model = createCorpusModel(11);
  const embedder = new LocalHashEmbedder({ model: config.EMBEDDING_MODEL, dimensions: config.EMBEDDING_DIMENSIONS });
  const rssBefore = process.memoryUsage().rss;
  const onnx = createEmbedder(onnxConfig);
  cleanup.push(async () => onnx.close?.());
  await onnx.warmUp?.();
  const rounds: RoundFigures[] = [];
  for (let round = 0; round <= RUNS; round++) {
    const random = seededRandom(1000 + round);
    const documents = Array.from({ length: DOCUMENTS }, (_, d) => ({
      title: `Bench ${round}.${d}`,
      text: Array.from({ length: PARAGRAPHS }, () => chunkText(model, random, Math.floor(random() * 400))).join('\n\n'),
    }));

    const small = abstracts.slice(round * SMALL_DOCUMENTS, (round + 1) * SMALL_DOCUMENTS);
    const smallRates = await p4(small, SMALL_CONCURRENCY, round);
    // Other abstracts (content already stored would be answered as it is, not ingested).
    const batchOffset = (RUNS + 1 + round) * SMALL_DOCUMENTS;
    const batched = abstracts.slice(batchOffset, batchOffset + SMALL_DOCUMENTS);
    const batchRates = await p4(batched, SMALL_CONCURRENCY, round, endToEndBatch);

    const largeRates = await p4(documents, CONCURRENCY, round);
    const { ids } = largeRates;

    const chunks = await producedChunks(pool, scope, ids);
    const embedStart = performance.now();
    await embedder.embed(chunks.map((chunk) => chunk.content));
    const embedSeconds = (performance.now() - embedStart) / 1000;
    const copySeconds = await copyBaseline(owner, scope, chunks);
    const insertSeconds = await insertSelectPath(pool, scope, chunks);
    const pathSeconds = await ingestionPath(pool, scope, chunks, config.EMBED_BATCH_SIZE);
    await removeShadows(pool, scope);

    // Passages of the round's chunks, each long enough to be cut at the model's 256 tokens.
    const passages = Array.from({ length: PASSAGES }, (_, i) =>
      [0, 1, 2].map((offset) => chunks[(i * 3 + offset) % chunks.length]!.content).join(' '),
    );
    const cpuStart = process.cpuUsage();
    const onnxStart = performance.now();
    await onnx.embed(passages);
    const onnxSeconds = (performance.now() - onnxStart) / 1000;
    const cpu = process.cpuUsage(cpuStart);

    const figures: RoundFigures = {
      chunks: chunks.length,
      endToEndChunksPerSecond: (chunks.length / documents.length) * largeRates.endToEnd,
      localEmbedderChunksPerSecond: chunks.length / embedSeconds,
      copyRowsPerSecond: chunks.length / copySeconds,
      insertSelectRowsPerSecond: chunks.length / insertSeconds,
      ingestionPathRowsPerSecond: chunks.length / pathSeconds,
      onnxPassagesPerSecond: PASSAGES / onnxSeconds,
      onnxCpuMsPerPassage: (cpu.user + cpu.system) / 1000 / PASSAGES,
      residentMb: process.memoryUsage().rss / 2 ** 20,
      smallEndToEndDocumentsPerSecond: smallRates.endToEnd,
      smallInProcessDocumentsPerSecond: smallRates.inProcess,
      batchEndToEndDocumentsPerSecond: batchRates.endToEnd,
      batchInProcessDocumentsPerSecond: batchRates.inProcess,
      largeEndToEndDocumentsPerSecond: largeRates.endToEnd,
      largeInProcessDocumentsPerSecond: largeRates.inProcess,
    };
    console.error(`bench:ingest ${round === 0 ? 'warm-up' : `run ${round}/${RUNS}`}: ${JSON.stringify(figures)}`);
    if (round > 0) rounds.push(figures);
  }

  const medianOf = (key: keyof RoundFigures) => median(rounds.map((figures) => figures[key]));
  const report: IngestReport = {
    generatedAt: new Date().toISOString(),
    machine: {
      cpus: `${os.cpus().length} CPUs`,
      node: `Node ${process.version}`,
      platform: `${os.platform()} ${os.arch()}`,
      // Other work on the machine slows every figure but the CPU time per passage.
      loadAverage: os
        .loadavg()
        .map((load) => load.toFixed(1))
        .join(' '),
    },
    settings: {
      runs: RUNS,
      documentsPerRun: DOCUMENTS,
      uploadConcurrency: CONCURRENCY,
      chunkSize: config.CHUNK_SIZE,
      chunkOverlap: config.CHUNK_OVERLAP,
      embedBatchSize: config.EMBED_BATCH_SIZE,
      embeddingModel: `${config.EMBEDDING_MODEL} (${config.EMBEDDING_DIMENSIONS} dimensions)`,
      neuralModel: `${onnx.model}, ${onnxConfig.EMBEDDING_THREADS} threads, ${onnxConfig.EMBEDDING_BATCH_TOKENS} tokens per run`,
      passagesPerRun: PASSAGES,
      smallDocumentsPerRun: SMALL_DOCUMENTS,
      smallConcurrency: SMALL_CONCURRENCY,
      batchFiles: BATCH_FILES,
      batchRequests: BATCH_REQUESTS,
      oneStepMaxBytes: config.INGESTION_ONE_STEP_MAX_BYTES,
      residentMbBeforeModel: Math.round(rssBefore / 2 ** 20),
    },
    runs: rounds,
    medians: {
      chunks: medianOf('chunks'),
      endToEndChunksPerSecond: medianOf('endToEndChunksPerSecond'),
      localEmbedderChunksPerSecond: medianOf('localEmbedderChunksPerSecond'),
      copyRowsPerSecond: medianOf('copyRowsPerSecond'),
      insertSelectRowsPerSecond: medianOf('insertSelectRowsPerSecond'),
      ingestionPathRowsPerSecond: medianOf('ingestionPathRowsPerSecond'),
      onnxPassagesPerSecond: medianOf('onnxPassagesPerSecond'),
      onnxCpuMsPerPassage: medianOf('onnxCpuMsPerPassage'),
      residentMb: medianOf('residentMb'),
      smallEndToEndDocumentsPerSecond: medianOf('smallEndToEndDocumentsPerSecond'),
      smallInProcessDocumentsPerSecond: medianOf('smallInProcessDocumentsPerSecond'),
      batchEndToEndDocumentsPerSecond: medianOf('batchEndToEndDocumentsPerSecond'),
      batchInProcessDocumentsPerSecond: medianOf('batchInProcessDocumentsPerSecond'),
      largeEndToEndDocumentsPerSecond: medianOf('largeEndToEndDocumentsPerSecond'),
      largeInProcessDocumentsPerSecond: medianOf('largeInProcessDocumentsPerSecond'),
    },
  };
  const table = writeReport(path.join(projectRoot, 'bench', 'results'), report);
  console.log(table);
  failed = false;
} finally {
  for (const step of cleanup.reverse()) await step().catch((error: unknown) => console.error(error));
  await stack.stop();
  if (!failed) rmSync(runDir, { recursive: true, force: true });
  console.error(`bench:ingest took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
