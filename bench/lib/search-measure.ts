// What the search benchmark measures for one tenant: recall@k of the dense search the API
// runs (and of a plain index scan) against exact search over the same candidates, recall@k of
// the lexical leg against BM25 computed from every chunk's tsv, and the
// latency of one search call (a withTenant transaction, as a request makes it) per mode,
// beside an unfiltered index search of the whole table by a role that bypasses RLS.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { denseSearch, setIndexScan, type DenseQuery, type DenseStrategy } from '../../db/queries/search/dense.ts';
import { ChunkHit, hitColumns } from '../../db/queries/search/hits.ts';
import { BM25_DEFAULTS, lexicalSearch } from '../../db/queries/search/lexical.ts';
import type { SearchMode } from '../../contract/search.ts';
import { toPgVector } from '../../db/vector.ts';
import { withTenant, type TenantConnection } from '../../db/with-tenant.ts';
import type { LocalHashEmbedder } from '../../rag/embed/local-hash.ts';
import { prepareSearch, runSearch } from '../../search/service.ts';
import { queryText, seededRandom, type CorpusModel } from './corpus.ts';
import type { LoadedTenant } from './dataset.ts';
import { mean } from './stats.ts';

export const K = 10;

export interface BenchQuery {
  readonly text: string;
  readonly vector: number[];
}

/** Queries about the topics of the tenant's own documents. */
export function tenantQueries(
  model: CorpusModel,
  embedder: LocalHashEmbedder,
  tenant: LoadedTenant,
  count: number,
  seed: number,
): BenchQuery[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const text = queryText(model, random, tenant.topics[Math.floor(random() * tenant.topics.length)]!);
    return { text, vector: embedder.embedOne(text) };
  });
}

/**
 * BM25 as the lexical leg defines it (db/queries/search/lexical.ts), computed the slow way: every
 * searchable chunk of the tenant read from its tsv, with nothing of lexical_postings or
 * lexical_stats. The lexical leg's exact answer.
 */
export function referenceBm25(tx: TenantConnection, tenantId: string, text: string, k: number) {
  const { k1, b } = BM25_DEFAULTS;
  return tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
    WITH query AS (SELECT app_search_text(${text}) AS text),
    terms AS (
      SELECT 'english' AS ts_config, t.lexeme AS term, cardinality(t.positions) AS qtf
      FROM query, unnest(to_tsvector('english', query.text)) AS t
      UNION ALL
      SELECT 'simple', t.lexeme, cardinality(t.positions) FROM query, unnest(to_tsvector('simple', query.text)) AS t
    ),
    docs AS MATERIALIZED (
      SELECT c.id, c.ts_config, c.tsv, (SELECT sum(cardinality(u.positions)) FROM unnest(c.tsv) AS u)::float8 AS length
      FROM chunks c JOIN documents d ON d.id = c.document_id AND d.active_version = c.version
      WHERE c.tenant_id = ${tenantId} AND d.tenant_id = ${tenantId}
    ),
    stats AS (SELECT count(*)::float8 AS n, avg(length) AS avgdl FROM docs WHERE length > 0),
    matches AS (
      SELECT d.id, t.ts_config, t.term, t.qtf, cardinality(u.positions)::float8 AS tf, d.length
      FROM docs d CROSS JOIN LATERAL unnest(d.tsv) AS u JOIN terms t ON t.ts_config = d.ts_config AND t.term = u.lexeme
    ),
    df AS (SELECT ts_config, term, count(*)::float8 AS df FROM matches GROUP BY ts_config, term)
    SELECT m.id
    FROM matches m JOIN df USING (ts_config, term) CROSS JOIN stats s
    GROUP BY m.id
    ORDER BY sum(m.qtf * ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) * m.tf * (${k1}::float8 + 1)
                 / (m.tf + ${k1}::float8 * (1 - ${b}::float8 + ${b}::float8 * m.length / s.avgdl))) DESC, m.id
    LIMIT ${k}
  `);
}

/** Mean recall@k of the lexical leg against its exact answer. */
export async function measureLexicalRecall(
  pool: DatabasePool,
  tenant: LoadedTenant,
  queries: readonly BenchQuery[],
): Promise<number> {
  const context = { tenantId: tenant.tenantId, userId: tenant.userId };
  const recalls: number[] = [];
  for (const query of queries) {
    const [leg, truth] = await withTenant(
      pool,
      context,
      async (tx) =>
        [
          await lexicalSearch(tx, { tenantId: tenant.tenantId, text: query.text, k: K }),
          new Set(await referenceBm25(tx, tenant.tenantId, query.text, K)),
        ] as const,
    );
    recalls.push(truth.size === 0 ? 1 : leg.filter((hit) => truth.has(hit.chunkId)).length / truth.size);
  }
  return mean(recalls);
}

export interface RecallFigures {
  /** Mean recall@k of the search the API runs. */
  readonly recall: number;
  /** Mean recall@k of a plain index scan (ef_search 40, no iterative scan): the trap. */
  readonly plainRecall: number;
  /** How the API's search chose to search, per query. */
  readonly strategies: Readonly<Partial<Record<DenseStrategy, number>>>;
}

export async function measureRecall(
  pool: DatabasePool,
  embedder: LocalHashEmbedder,
  tenant: LoadedTenant,
  queries: readonly BenchQuery[],
): Promise<RecallFigures> {
  const context = { tenantId: tenant.tenantId, userId: tenant.userId };
  const recalls: number[] = [];
  const plainRecalls: number[] = [];
  const strategies: Partial<Record<DenseStrategy, number>> = {};
  for (const query of queries) {
    const base: DenseQuery = { tenantId: tenant.tenantId, vector: query.vector, model: embedder.model, k: K };
    const dense = (extra: Partial<DenseQuery>) =>
      withTenant(pool, context, (tx) => denseSearch(tx, { ...base, ...extra }));
    const exact = await dense({ strategy: 'exact' });
    const auto = await dense({ strategy: 'auto' });
    const plain = await dense({ strategy: 'index', tuning: { iterativeScan: 'off', efSearch: 40 } });
    const truth = new Set(exact.hits.map((hit) => hit.chunkId));
    const recall = (hits: readonly ChunkHit[]) =>
      truth.size === 0 ? 1 : hits.filter((hit) => truth.has(hit.chunkId)).length / truth.size;
    recalls.push(recall(auto.hits));
    plainRecalls.push(recall(plain.hits));
    strategies[auto.strategy] = (strategies[auto.strategy] ?? 0) + 1;
  }
  return { recall: mean(recalls), plainRecall: mean(plainRecalls), strategies };
}

async function timed(task: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await task();
  return performance.now() - started;
}

/** Milliseconds of one search call as the API's search runs it in `mode`: embedding, then the legs. */
export function timeSearch(
  pool: DatabasePool,
  embedder: LocalHashEmbedder,
  tenant: LoadedTenant,
  query: BenchQuery,
  mode: SearchMode,
): Promise<number> {
  const context = { tenantId: tenant.tenantId, userId: tenant.userId };
  return timed(async () => {
    const prepared = await prepareSearch(embedder, { tenantId: tenant.tenantId, query: query.text, k: K, mode });
    return withTenant(pool, context, (tx) => runSearch(tx, prepared));
  });
}

/**
 * Milliseconds of the same index search over the whole table, with no tenant to filter by:
 * `superuser` bypasses row-level security. The query embeds its text as the API's does.
 */
export function timeUnfiltered(
  superuser: DatabasePool,
  embedder: LocalHashEmbedder,
  query: BenchQuery,
): Promise<number> {
  return timed(() =>
    withTenant(superuser, {}, async (tx) => {
      const vector = toPgVector(embedder.embedOne(query.text));
      await setIndexScan(tx, K);
      return tx.any(sql.type(ChunkHit)`
        WITH nearest AS MATERIALIZED (
          SELECT ${hitColumns}, (c.embedding::vector(384) <=> ${vector}::vector(384)) AS distance
          FROM chunks c JOIN documents d ON d.id = c.document_id AND d.active_version = c.version
          WHERE c.embedding_dims = 384 AND c.embedding_model = ${embedder.model}
          ORDER BY c.embedding::vector(384) <=> ${vector}::vector(384)
          LIMIT ${K}
        )
        SELECT *, 1 - distance AS score, NULL AS mail FROM nearest ORDER BY distance
      `);
    }),
  );
}
