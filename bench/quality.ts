// `npm run bench:quality`: retrieval quality on a public IR benchmark, through the API as a
// user meets it. BEIR SciFact by default, read from where it lies (its licence is
// non-commercial: it is never copied into the repository):
//   - every abstract uploaded as one `.txt` file (title, blank line, text) through
//     POST /v1/documents, UPLOAD_CONCURRENCY at a time, with the API and the worker each a
//     process of its own; then the wait until every document is completed;
//   - every test query through POST /v1/search with k = 10 in lexical, dense and hybrid mode, the
//     results mapped back to corpus ids: once as k chunks (a document's best-ranked chunk stands
//     for it, so fewer than k documents may remain), once with `collapse: "document"` (k
//     documents, each by its best chunk), which is how the targets are judged: the benchmark
//     ranks documents;
//   - fusion diagnostics: both legs fetched 50 documents deep, fused here by RRF and by convex
//     combinations of min-max-normalised scores with three dense weights, to show what the
//     other fusions and weights would score;
//   - nDCG@10 and recall@10 as BEIR defines them, beside a plain BM25 (bench/lib/bm25.ts)
//     computed in the same run over the same texts, and the targets of issue 9.
// The embedder is config's default; `--embedder NAME` sets EMBEDDING_PROVIDER for the API and
// the worker (any other setting passes through the environment). `--limit N` keeps N corpus
// documents that still hold the relevant ones of the queries kept, for a quick run.
// Results go to bench/results/quality.{json,md}.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'slonik';
import { z } from 'zod';
import type { SearchMode } from '../contract/search.ts';
import { loadConfig, projectRoot } from '../config.ts';
import { createDatabasePool } from '../db/pool.ts';
import { withTenant } from '../db/with-tenant.ts';
import { call } from '../test/api/harness.ts';
import { startApiProcess } from '../test/helpers/api-process.ts';
import { documentText, limitBeir, readBeir } from './lib/beir.ts';
import { startBenchStack } from './lib/bench-stack.ts';
import { BM25_DEFAULTS, Bm25Index } from './lib/bm25.ts';
import { evaluate, type Effectiveness } from './lib/ir-metrics.ts';
import { machine, seconds, writeResults } from './lib/results.ts';
import { mapLimit, percentile } from './lib/stats.ts';
import { createBenchTenant, signUpOwner, upload, waitForDocuments } from './lib/uploads.ts';
import { superviseWorker } from './lib/worker-supervisor.ts';

const K = 10;
/** The order of the table. */
const MODES: readonly SearchMode[] = ['lexical', 'dense', 'hybrid'];
const UPLOAD_CONCURRENCY = 8;
const SEARCH_CONCURRENCY = 2;
const COMPLETION_TIMEOUT_MS = 3 * 60 * 60_000;
const DEFAULT_DATASET = path.resolve(projectRoot, '..', 'shared', 'datasets', 'scifact');

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: DEFAULT_DATASET },
    limit: { type: 'string' },
    embedder: { type: 'string' },
  },
});

const started = Date.now();
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' }).trim();
const full = readBeir(args.dataset);
const dataset = args.limit ? limitBeir(full, Number(args.limit)) : full;
console.error(
  `bench:quality: ${dataset.corpus.length} documents, ${dataset.queries.length} queries from ${args.dataset}`,
);

const localDir = path.join(projectRoot, '.local');
const runDir = path.join(localDir, 'bench-runs', `quality-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(runDir, { recursive: true });
const stack = await startBenchStack(runDir, localDir, { persistTemporal: false });
const env: Record<string, string> = {
  ...stack.env,
  ...(args.embedder ? { EMBEDDING_PROVIDER: args.embedder } : {}),
  JWT_SECRET: randomBytes(32).toString('base64url'),
  JWT_TTL_SECONDS: '86400',
  BLOB_DIR: path.join(runDir, 'blobs'),
};
const config = loadConfig({ ...process.env, ...env });
const pool = await createDatabasePool(stack.env.DATABASE_URL!, { maxPoolSize: 2 });
const api = await startApiProcess(env);
const worker = superviseWorker({ env, logFile: path.join(runDir, 'worker.log'), restartDelayMs: 1_000 });

const SearchReply = z.object({
  results: z.array(
    z.object({
      documentId: z.string(),
      score: z.number(),
    }),
  ),
});
type Collapse = 'chunks' | 'document';
const COLLAPSES: readonly Collapse[] = ['chunks', 'document'];
const DIAGNOSTIC_DEPTH = 50;
const ChunkTotal = z.object({ chunks: z.number() });

let failed = true;
try {
  await worker.ready;
  const owner = await signUpOwner(api);
  const tenant = await createBenchTenant(api, owner, 'Quality');

  // Ingestion: one file per abstract. Identical content is one document (the API answers 200
  // with the existing one), so a document id may stand for several corpus ids.
  const ingestStart = performance.now();
  let uploaded = 0;
  const answers = await mapLimit(dataset.corpus, UPLOAD_CONCURRENCY, async (document) => {
    const answer = await upload(api, tenant, {
      filename: `${document.id}.txt`,
      bytes: Buffer.from(documentText(document), 'utf8'),
      mimeType: 'text/plain',
    });
    if (![200, 201, 202].includes(answer.status) || !answer.documentId) {
      throw new Error(`upload of ${document.id} answered ${answer.status}`);
    }
    if (++uploaded % 500 === 0) console.error(`bench:quality: ${uploaded} uploaded`);
    return { corpusId: document.id, ...answer };
  });
  const corpusIds = new Map<string, string[]>();
  for (const { documentId, corpusId } of answers)
    corpusIds.set(documentId!, [...(corpusIds.get(documentId!) ?? []), corpusId]);
  const done = await waitForDocuments(pool, tenant, corpusIds.size, Date.now() + COMPLETION_TIMEOUT_MS);
  const ingestSeconds = (done.at - ingestStart) / 1000;
  if ((done.statuses.completed ?? 0) !== corpusIds.size) {
    throw new Error(`${corpusIds.size} documents uploaded, settled as ${JSON.stringify(done.statuses)}`);
  }
  const { chunks } = await withTenant(pool, { tenantId: tenant.tenantId, userId: tenant.userId }, (tx) =>
    tx.one(sql.type(ChunkTotal)`SELECT coalesce(sum(chunk_count), 0)::int AS chunks FROM documents`),
  );
  const latencies = answers.map((answer) => answer.ms);
  const ingest = {
    documents: corpusIds.size,
    chunks,
    seconds: ingestSeconds,
    documentsPerSecond: corpusIds.size / ingestSeconds,
    chunksPerSecond: chunks / ingestSeconds,
    uploadP50Ms: percentile(latencies, 0.5),
    uploadP95Ms: percentile(latencies, 0.95),
  };
  console.error(`bench:quality: ingested ${JSON.stringify(ingest)}`);

  const searchOnce = async (text: string, mode: SearchMode, k: number, collapse: Collapse) => {
    const reply = await call(api, 'POST', '/v1/search', {
      token: tenant.token,
      tenantId: tenant.tenantId,
      body: { query: text, k, mode, ...(collapse === 'document' ? { collapse } : {}) },
    });
    if (reply.status !== 200) throw new Error(`search ${mode} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    return SearchReply.parse(reply.body).results;
  };
  const toCorpus = (documentIds: readonly string[]) => documentIds.flatMap((id) => corpusIds.get(id) ?? []);

  // Search, each mode over every query, as k chunks and as k documents.
  type Measured = Effectiveness & { p50Ms: number; p95Ms: number };
  const measured: Record<Collapse, Partial<Record<SearchMode, Measured>>> = { chunks: {}, document: {} };
  for (const collapse of COLLAPSES) {
    for (const mode of MODES) {
      const timed = await mapLimit(dataset.queries, SEARCH_CONCURRENCY, async (query) => {
        const begun = performance.now();
        const results = await searchOnce(query.text, mode, K, collapse);
        return { id: query.id, ranked: toCorpus(results.map((r) => r.documentId)), ms: performance.now() - begun };
      });
      const rankings = new Map(timed.map(({ id, ranked }) => [id, ranked]));
      const ms = timed.map((result) => result.ms);
      measured[collapse][mode] = {
        ...evaluate(K, dataset.qrels, rankings),
        p50Ms: percentile(ms, 0.5),
        p95Ms: percentile(ms, 0.95),
      };
      console.error(`bench:quality: ${mode} (${collapse}) ${JSON.stringify(measured[collapse][mode])}`);
    }
  }
  const modes = measured.document;

  // Fusion diagnostics: each leg DIAGNOSTIC_DEPTH documents deep, fused here.
  const legs = await mapLimit(dataset.queries, SEARCH_CONCURRENCY, async (query) => ({
    id: query.id,
    lexical: await searchOnce(query.text, 'lexical', DIAGNOSTIC_DEPTH, 'document'),
    dense: await searchOnce(query.text, 'dense', DIAGNOSTIC_DEPTH, 'document'),
  }));
  const fuse = (combine: (lexical: Map<string, number>, dense: Map<string, number>) => Map<string, number>) =>
    evaluate(
      K,
      dataset.qrels,
      new Map(
        legs.map(({ id, lexical, dense }) => {
          const asMap = (results: typeof lexical, value: (index: number, score: number) => number) =>
            new Map(results.map((result, index) => [result.documentId, value(index, result.score)]));
          const scores = combine(
            asMap(lexical, (_i, score) => score),
            asMap(dense, (_i, score) => score),
          );
          const ranked = [...scores].sort(([, a], [, b]) => b - a).map(([documentId]) => documentId);
          return [id, toCorpus(ranked.slice(0, K))];
        }),
      ),
    );
  const rrf = (lexical: Map<string, number>, dense: Map<string, number>) => {
    const fused = new Map<string, number>();
    for (const leg of [lexical, dense])
      [...leg.keys()].forEach((id, index) => fused.set(id, (fused.get(id) ?? 0) + 1 / (60 + index + 1)));
    return fused;
  };
  const minMax = (leg: Map<string, number>) => {
    const values = [...leg.values()];
    const low = Math.min(...values);
    const span = Math.max(...values) - low || 1;
    return new Map([...leg].map(([id, score]) => [id, (score - low) / span]));
  };
  const convex = (alpha: number) => (lexical: Map<string, number>, dense: Map<string, number>) => {
    const [l, d] = [minMax(lexical), minMax(dense)];
    const fused = new Map<string, number>();
    for (const id of new Set([...l.keys(), ...d.keys()]))
      fused.set(id, alpha * (d.get(id) ?? 0) + (1 - alpha) * (l.get(id) ?? 0));
    return fused;
  };
  const fusion: Record<string, Effectiveness> = { [`RRF (k 60), legs ${DIAGNOSTIC_DEPTH} deep`]: fuse(rrf) };
  for (const alpha of [0.3, 0.5, 0.7])
    fusion[`convex, ${alpha} dense + ${(1 - alpha).toFixed(1)} lexical, min-max normalised`] = fuse(convex(alpha));
  console.error(`bench:quality: fusion diagnostics ${JSON.stringify(fusion)}`);

  // The baseline: a plain BM25 over the same texts.
  const bm25 = new Bm25Index(BM25_DEFAULTS);
  for (const document of dataset.corpus) bm25.add(document.id, documentText(document));
  const baseline = evaluate(K, dataset.qrels, new Map(dataset.queries.map((q) => [q.id, bm25.search(q.text, K)])));

  const targets = [
    {
      mode: 'lexical',
      goal: `≥ BM25 − 0.01 (${(baseline.ndcg - 0.01).toFixed(3)})`,
      met: (modes.lexical?.ndcg ?? 0) >= baseline.ndcg - 0.01,
    },
    { mode: 'dense', goal: '≥ 0.62', met: (modes.dense?.ndcg ?? 0) >= 0.62 },
    {
      mode: 'hybrid',
      goal: `≥ BM25 + 0.04 (${(baseline.ndcg + 0.04).toFixed(3)})`,
      met: (modes.hybrid?.ndcg ?? 0) >= baseline.ndcg + 0.04,
    },
  ];
  const figure = (value: number) => value.toFixed(3);
  const rows = MODES.map((mode) => {
    const result = modes[mode]!;
    const target = targets.find((t) => t.mode === mode);
    return [
      `Quarry ${mode}, k documents`,
      figure(result.ndcg),
      figure(result.recall),
      `${result.empty}`,
      `${result.p50Ms.toFixed(0)} / ${result.p95Ms.toFixed(0)} ms`,
      target ? `${target.goal}: ${target.met ? 'met' : '**not met**'}` : '',
    ];
  });
  const markdown = [
    '# Retrieval quality (`npm run bench:quality`)',
    '',
    `${new Date().toISOString()} · commit ${commit} · ${machine()} · total time ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
    `Data set: ${path.basename(args.dataset)} (BEIR layout), ${dataset.corpus.length} documents` +
      `${args.limit ? ` (--limit ${args.limit})` : ''}, ${dataset.queries.length} test queries. ` +
      `Embedder: ${config.EMBEDDING_PROVIDER} ${config.EMBEDDING_MODEL} (${config.EMBEDDING_DIMENSIONS} dimensions). ` +
      `Each abstract uploaded as one .txt file through POST /v1/documents; each query through POST /v1/search, k = ${K}, ` +
      'results mapped to corpus ids: with `collapse: "document"` (k documents, each by its best chunk; the targets are ' +
      'judged on these) and as k chunks (a document’s best-ranked chunk standing for it).',
    '',
    `| Ranking | nDCG@${K} | recall@${K} | queries with no result | search p50 / p95 | target |`,
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    ...MODES.map((mode) => {
      const result = measured.chunks[mode]!;
      return `| Quarry ${mode}, k chunks | ${figure(result.ndcg)} | ${figure(result.recall)} | ${result.empty} | ${result.p50Ms.toFixed(0)} / ${result.p95Ms.toFixed(0)} ms | |`;
    }),
    `| plain BM25 (k1 ${BM25_DEFAULTS.k1}, b ${BM25_DEFAULTS.b}), same texts, in memory | ${figure(baseline.ndcg)} | ${figure(baseline.recall)} | ${baseline.empty} | | baseline |`,
    '',
    `Fusion diagnostics, computed here from both legs’ ${DIAGNOSTIC_DEPTH} best documents (the API's hybrid mode runs one of them, as HYBRID_FUSION says, over legs 50 deep when collapsed: ${config.HYBRID_FUSION}):`,
    '',
    '| Fusion | nDCG@10 | recall@10 |',
    '| --- | ---: | ---: |',
    ...Object.entries(fusion).map(
      ([name, result]) => `| ${name} | ${figure(result.ndcg)} | ${figure(result.recall)} |`,
    ),
    '',
    `Ingestion: ${ingest.documents} documents, ${ingest.chunks} chunks in ${seconds(ingest.seconds * 1000)}: ` +
      `${ingest.documentsPerSecond.toFixed(2)} documents/s, ${ingest.chunksPerSecond.toFixed(2)} chunks/s; ` +
      `upload p50 ${ingest.uploadP50Ms.toFixed(0)} ms, p95 ${ingest.uploadP95Ms.toFixed(0)} ms ` +
      `(${UPLOAD_CONCURRENCY} at a time).`,
    '',
  ].join('\n');
  const report = {
    generatedAt: new Date().toISOString(),
    commit,
    machine: machine(),
    dataset: {
      path: args.dataset,
      limit: args.limit ?? null,
      documents: dataset.corpus.length,
      queries: dataset.queries.length,
    },
    embedder: {
      provider: config.EMBEDDING_PROVIDER,
      model: config.EMBEDDING_MODEL,
      dimensions: config.EMBEDDING_DIMENSIONS,
    },
    ingest,
    modes,
    chunkModes: measured.chunks,
    fusion,
    bm25: { ...BM25_DEFAULTS, ...baseline },
    targets,
  };
  console.log(writeResults('quality', report, markdown));
  failed = false;
} finally {
  await worker.stop();
  await api.stop();
  await pool.end();
  await stack.stop();
  if (!failed) rmSync(runDir, { recursive: true, force: true });
  else console.error(`bench:quality: logs kept in ${runDir}`);
  console.error(`bench:quality took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
