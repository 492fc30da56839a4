// The dense leg: the chunks nearest to the query vector by cosine distance, among the
// tenant's searchable chunks of the same embedding model.
//
// The HNSW index knows nothing of tenants: it returns nearest neighbours of the whole table,
// and the row-level-security policy (with the filters) removes other tenants' rows
// afterwards. With a plain scan a small tenant gets few or no rows back. So:
//   - a small candidate set (counted cheaply, up to a cap) is searched exactly: every
//     candidate's distance, found through the tenant btree; exact, and fast at that size;
//   - a large one uses the index with an iterative scan (pgvector 0.8), set for this
//     transaction only: the scan goes on until enough rows pass the policy and the filters,
//     or until its budget is spent: hnsw.max_scan_tuples, and work_mem × hnsw.scan_mem_multiplier
//     of memory. The scan walks the graph outwards from the query, through every tenant's rows;
//     when more of other tenants' rows lie nearer the query than the budget can visit (a short
//     or rare query whose words fill another tenant's documents and none of ours), it ends
//     with fewer than k of ours, even none. Then the tenant, which has more than enough
//     candidates, is searched exactly: never fewer than k while k exist.
// A query vector of zero length has no direction to search in: it is searched exactly, every
// candidate at cosine distance 1 (similarity 0), where pgvector would answer NaN.
// The index is an expression index per dimension, `(embedding::vector(N)) WHERE
// embedding_dims = N`; the query repeats that expression and predicate exactly, or the
// planner cannot use it. Dimensions without an index are always searched exactly.
import { sql, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { toPgVector } from '../../vector.ts';
import type { TenantConnection } from '../../with-tenant.ts';
import { searchableChunks, searchableDocuments, type SearchFilters } from './filters.ts';
import { ChunkHit, hitColumns, withMail } from './hits.ts';

/**
 * The dimensions migrations/3_documents.sql indexes: the cast of the index expression, and its
 * partial-index predicate as a literal (a bound parameter cannot prove the predicate).
 */
const INDEXED: Readonly<Record<number, { type: FragmentSqlToken; predicate: FragmentSqlToken }>> = {
  384: { type: sql.fragment`vector(384)`, predicate: sql.fragment`c.embedding_dims = 384` },
  1536: { type: sql.fragment`vector(1536)`, predicate: sql.fragment`c.embedding_dims = 1536` },
};

/** `index-then-exact`: the index scan ended with fewer than k hits, so the tenant was searched exactly. */
export type DenseStrategy = 'exact' | 'index' | 'index-then-exact';

export interface DenseTuning {
  /** Candidate sets up to this size are searched exactly. */
  readonly exactMaxCandidates: number;
  /** hnsw.ef_search: the candidate list of each index scan step (at least k). */
  readonly efSearch: number;
  /** hnsw.max_scan_tuples: where an iterative scan stops, found or not. */
  readonly maxScanTuples: number;
  /** hnsw.iterative_scan; `off` is the plain scan that loses small tenants (for comparison only). */
  readonly iterativeScan: 'relaxed_order' | 'strict_order' | 'off';
}

/** Measured by `npm run bench:search` (bench/results/search.md). */
export const DENSE_TUNING: DenseTuning = {
  exactMaxCandidates: 2000,
  efSearch: 400,
  maxScanTuples: 50_000,
  iterativeScan: 'relaxed_order',
};

export interface DenseQuery {
  readonly tenantId: string;
  readonly vector: readonly number[];
  /** Only vectors of this model are comparable with the query's. */
  readonly model: string;
  readonly k: number;
  readonly filters?: SearchFilters;
  /**
   * `auto` chooses by the size of the candidate set and falls back to exact search when the index
   * comes back short; `exact` and `index` force that plan alone (benchmarks, tests).
   */
  readonly strategy?: 'auto' | Exclude<DenseStrategy, 'index-then-exact'>;
  readonly tuning?: Partial<DenseTuning>;
}

export interface DenseResult {
  readonly hits: ChunkHit[];
  readonly strategy: DenseStrategy;
}

const Distance = ChunkHit.omit({ score: true }).extend({ distance: z.number() });

function candidates(query: DenseQuery): FragmentSqlToken {
  const dims = INDEXED[query.vector.length]?.predicate ?? sql.fragment`c.embedding_dims = ${query.vector.length}`;
  return sql.fragment`
    ${searchableChunks(query.tenantId, query.filters)} AND ${dims} AND c.embedding_model = ${query.model}
  `;
}

/**
 * Whether the query's candidates number more than `cap`, judged from the chunk counts of the
 * matching documents (set when a version becomes active): a running sum over the tenant's
 * documents in index order, which stops at the first document that passes the cap.
 */
function exceeds(tx: TenantConnection, query: DenseQuery, cap: number): Promise<boolean> {
  return tx.oneFirst(sql.type(z.object({ exceeds: z.boolean() }))`
    SELECT EXISTS (
      SELECT 1 FROM (
        SELECT sum(d.chunk_count) OVER (ORDER BY d.created_at DESC, d.id DESC ROWS UNBOUNDED PRECEDING) AS running
        FROM documents d WHERE ${searchableDocuments(query.tenantId, query.filters)}
      ) AS documents WHERE running > ${cap}
    ) AS exceeds
  `);
}

const hasLength = (vector: readonly number[]) => vector.some((x) => x !== 0);

async function chooseStrategy(
  tx: TenantConnection,
  query: DenseQuery,
  tuning: DenseTuning,
): Promise<'exact' | 'index'> {
  if (query.strategy && query.strategy !== 'auto') return query.strategy;
  if (!INDEXED[query.vector.length] || !hasLength(query.vector)) return 'exact';
  return (await exceeds(tx, query, tuning.exactMaxCandidates)) ? 'index' : 'exact';
}

/** The k nearest candidates by `distance`, best first. */
async function nearest(tx: TenantConnection, query: DenseQuery, distance: FragmentSqlToken): Promise<ChunkHit[]> {
  // A relaxed-order iterative scan may return its rows slightly out of order: sort them again.
  // The mail join waits until the k nearest are chosen, so it cannot change the scan's plan.
  const rows = await tx.any(sql.type(Distance)`
    WITH nearest AS MATERIALIZED (
      SELECT ${hitColumns}, coalesce(nullif(${distance}, 'NaN'), 1) AS distance
      FROM ${candidates(query)}
      ORDER BY ${distance}
      LIMIT ${query.k}
    )
    ${withMail(sql.fragment`SELECT * FROM nearest`, sql.fragment`h.distance, h."chunkId"`)}
  `);
  return rows.map(({ distance: d, ...hit }) => ({ ...hit, score: 1 - d }));
}

/**
 * The HNSW scan settings, until the transaction ends or enable_sort is restored. Sorting is
 * disabled so that the planner cannot prefer reading the tenant's rows through its btree and
 * sorting them all: that is the exact plan, chosen on purpose or not at all.
 */
export async function setIndexScan(tx: TenantConnection, k: number, tuning: DenseTuning = DENSE_TUNING) {
  await tx.query(sql.unsafe`
    SELECT set_config('hnsw.ef_search', ${String(Math.max(tuning.efSearch, k))}, true),
           set_config('hnsw.iterative_scan', ${tuning.iterativeScan}, true),
           set_config('hnsw.max_scan_tuples', ${String(tuning.maxScanTuples)}, true),
           set_config('enable_sort', 'off', true)
  `);
}

/** Through the HNSW index, with an iterative scan; sorting is enabled again afterwards. */
async function indexed(tx: TenantConnection, query: DenseQuery, tuning: DenseTuning, type: FragmentSqlToken) {
  await setIndexScan(tx, query.k, tuning);
  const vector = toPgVector(query.vector);
  const hits = await nearest(tx, query, sql.fragment`(c.embedding::${type} <=> ${vector}::${type})`);
  await tx.query(sql.unsafe`SELECT set_config('enable_sort', 'on', true)`);
  return hits;
}

/** Every candidate measured: not the indexed expression, so the planner cannot take the index. */
function exact(tx: TenantConnection, query: DenseQuery): Promise<ChunkHit[]> {
  return nearest(tx, query, sql.fragment`(c.embedding <=> ${toPgVector(query.vector)}::vector)`);
}

export async function denseSearch(tx: TenantConnection, query: DenseQuery): Promise<DenseResult> {
  const tuning = { ...DENSE_TUNING, ...query.tuning };
  const strategy = await chooseStrategy(tx, query, tuning);
  const type = INDEXED[query.vector.length]?.type;
  if (strategy !== 'index' || !type) return { strategy: 'exact', hits: await exact(tx, query) };
  const hits = await indexed(tx, query, tuning, type);
  // Only `auto` chose the index for a candidate set larger than k: a short list is the scan's
  // budget spent elsewhere, not the tenant's last rows.
  if (hits.length >= query.k || query.strategy === 'index') return { strategy: 'index', hits };
  return { strategy: 'index-then-exact', hits: await exact(tx, query) };
}
