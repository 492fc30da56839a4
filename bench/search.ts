// `npm run bench:search [-- --chunks N --runs R --queries Q]`: tenant-correct search at scale.
//   - recall@10 of the dense search the API runs, against exact search, for tenants holding
//     0.1%, 1%, 10% and 50% of the chunks (and of a plain HNSW scan, to show the trap);
//   - p95 latency of a tenant's dense search against an unfiltered index search of the table;
//   - recall@10 of the lexical leg (BM25 over lexical_postings) against BM25 computed from every
//     chunk's tsv;
//   - p95 latency of hybrid search against dense search (target P5: at most 1.5×);
//   - the sizes of the chunks table, its indexes and the lexical tables.
// Brings its own PostgreSQL (like `npm test`; no Temporal is needed), loads the data set as the
// runtime role under each tenant's context, builds the indexes once, runs one warm-up round
// and `runs` measured ones, prints the tables and writes bench/results/search.{json,md}.
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { projectRoot } from '../config.ts';
import { runMigrations } from '../db/migrate.ts';
import { createDatabasePool } from '../db/pool.ts';
import { DENSE_TUNING } from '../db/queries/search/dense.ts';
import { legDepth } from '../search/service.ts';
import { LocalHashEmbedder } from '../rag/embed/local-hash.ts';
import { freePort, startLocalPostgres } from '../scripts/lib/stack.ts';
import { ensureToolchain } from '../scripts/lib/toolchain.ts';
import { createCorpusModel } from './lib/corpus.ts';
import { loadDataset, planTenants, type LoadedTenant } from './lib/dataset.ts';
import { withDeferredIndexes } from './lib/indexes.ts';
import {
  K,
  measureLexicalRecall,
  measureRecall,
  tenantQueries,
  timeSearch,
  timeUnfiltered,
  type BenchQuery,
} from './lib/search-measure.ts';
import { writeReport, type TenantFigures } from './lib/search-report.ts';
import { median, percentile } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    chunks: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '5' },
    queries: { type: 'string', default: '40' },
  },
});
const CHUNKS = Number(args.chunks);
const RUNS = Number(args.runs);
const QUERIES = Number(args.queries);
const SEED = 20261123;
const SERIES = ['dense', 'unfiltered', 'lexical', 'hybrid'] as const;
type Series = (typeof SERIES)[number];

const started = Date.now();
const log = (line: string) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const localDir = path.join(projectRoot, '.local');
const runDir = path.join(localDir, 'bench-runs', `search-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(runDir, { recursive: true });

const { pgBin } = ensureToolchain(localDir, log);
const database = await startLocalPostgres({ pgBin, dir: runDir, port: await freePort(), log });
const superuserUrl = new URL(database.postgres.superuserUrl);
superuserUrl.pathname = '/quarry';
const pools: DatabasePool[] = [];
let failed = true;
try {
  await runMigrations(database.migrationUrl);
  const app = await createDatabasePool(database.databaseUrl, { maxPoolSize: 4, statementTimeoutMs: 600_000 });
  const superuser = await createDatabasePool(superuserUrl.toString(), { maxPoolSize: 1 });
  pools.push(app, superuser);
  const embedder = new LocalHashEmbedder();
  const model = createCorpusModel(SEED);

  log(`loading ${CHUNKS.toLocaleString('en-US')} chunks`);
  let loadSeconds = 0;
  const { result: tenants, builds } = await withDeferredIndexes(database.migrationUrl, async () => {
    const loadStarted = performance.now();
    let reported = 0;
    const loaded = await loadDataset(app, embedder, model, planTenants(CHUNKS), SEED, (done, total) => {
      if (done < reported + total / 10 && done < total) return;
      reported = done;
      log(`  ${done}/${total} documents`);
    });
    loadSeconds = (performance.now() - loadStarted) / 1000;
    log(`loaded in ${loadSeconds.toFixed(0)} s; building the HNSW index`);
    return loaded;
  });
  log(`indexes built: ${builds.map((b) => `${b.name} ${b.seconds.toFixed(1)} s`).join(', ')}`);

  const measured = tenants.filter((tenant) => tenant.measured);
  const queries = new Map<LoadedTenant, BenchQuery[]>(
    measured.map((tenant, i) => [tenant, tenantQueries(model, embedder, tenant, QUERIES, SEED + i)]),
  );
  const recall = new Map<LoadedTenant, Awaited<ReturnType<typeof measureRecall>>>();
  for (const tenant of measured) {
    recall.set(tenant, await measureRecall(app, embedder, tenant, queries.get(tenant)!));
    log(`recall ${tenant.label}: ${recall.get(tenant)!.recall.toFixed(3)}`);
  }
  const lexicalRecall = new Map<LoadedTenant, number>();
  for (const tenant of measured) {
    lexicalRecall.set(tenant, await measureLexicalRecall(app, tenant, queries.get(tenant)!));
    log(`lexical recall ${tenant.label}: ${lexicalRecall.get(tenant)!.toFixed(3)}`);
  }

  const timeOne = (tenant: LoadedTenant, query: BenchQuery, series: Series): Promise<number> =>
    series === 'unfiltered'
      ? timeUnfiltered(superuser, embedder, query)
      : timeSearch(app, embedder, tenant, query, series);
  // runs[r][tenant][series] = p95 in ms. Each query is timed in every series back to back, so
  // that all see the same caches. Round 0 warms them and is not kept.
  const runs: Record<string, Record<string, number>>[] = [];
  for (let round = 0; round <= RUNS; round++) {
    for (const tenant of measured) {
      const times = new Map<Series, number[]>(SERIES.map((name) => [name, []]));
      for (const query of queries.get(tenant)!) {
        for (const name of SERIES) times.get(name)!.push(await timeOne(tenant, query, name));
      }
      if (round === 0) continue;
      for (const [name, values] of times)
        ((runs[round - 1] ??= {})[tenant.label] ??= {})[name] = percentile(values, 0.95);
    }
    log(`latency: ${round === 0 ? 'warm-up' : `run ${round}/${RUNS}`} done`);
  }
  const sizes = Object.fromEntries(
    (
      await superuser.any(sql.type(z.object({ name: z.string(), bytes: z.number() }))`
        SELECT c.relname AS name, pg_relation_size(c.oid)::float8 AS bytes
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't')
          AND (c.relname LIKE 'chunks%' OR c.relname LIKE 'lexical%')
        ORDER BY c.relname
      `)
    ).map(({ name, bytes }) => [name, bytes]),
  );

  const figures: TenantFigures[] = measured.map((tenant) => {
    const p95 = Object.fromEntries(
      SERIES.map((name) => [name, median(runs.map((run) => run[tenant.label]![name]!))]),
    ) as Record<Series, number>;
    const { recall: tenantRecall, plainRecall, strategies } = recall.get(tenant)!;
    return {
      label: tenant.label,
      share: tenant.share,
      chunks: tenant.chunks,
      strategies,
      recall: tenantRecall,
      plainRecall,
      lexicalRecall: lexicalRecall.get(tenant)!,
      p95,
    };
  });
  const report = {
    generatedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      'load average at the end': os.loadavg()[0]!.toFixed(2),
      postgres: 'the pinned wheel (PostgreSQL 18, pgvector 0.8)',
      'total time': `${((Date.now() - started) / 1000).toFixed(0)} s`,
    },
    settings: { k: K, queriesPerTenant: QUERIES, runs: RUNS, hybridLegDepth: legDepth(K), dense: DENSE_TUNING },
    load: {
      chunks: tenants.reduce((sum, tenant) => sum + tenant.chunks, 0),
      seconds: loadSeconds,
      indexBuilds: Object.fromEntries(builds.map((build) => [build.name, build.seconds])),
    },
    sizes,
    tenants: figures,
    runs,
  };
  console.log(writeReport(report, path.join(projectRoot, 'bench', 'results')));
  failed = false;
} finally {
  await Promise.all(pools.map((pool) => pool.end()));
  database.postgres.stop();
  if (!failed) rmSync(runDir, { recursive: true, force: true });
  else console.error(`bench: files of the failed run kept in ${runDir}`);
}
