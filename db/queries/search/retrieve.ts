// Search as the API and evaluations use it: dense, lexical, or hybrid (the default), where
// both legs are run and their lists fused by reciprocal rank fusion. Each result keeps the
// score and rank it had in each leg that returned it, beside the fused score.
import type { Embedder } from '../../../rag/embed/embedder.ts';
import { reciprocalRankFusion, type LegRank } from '../../../rag/retrieve/rrf.ts';
import type { TenantConnection } from '../../with-tenant.ts';
import { denseSearch, type DenseStrategy } from './dense.ts';
import type { SearchFilters } from './filters.ts';
import type { ChunkHit } from './hits.ts';
import { lexicalSearch } from './lexical.ts';

export const SEARCH_MODES = ['dense', 'lexical', 'hybrid'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];
export type Leg = 'dense' | 'lexical';

export interface SearchRequest {
  readonly tenantId: string;
  readonly query: string;
  readonly k: number;
  readonly mode: SearchMode;
  readonly filters?: SearchFilters;
}

export interface SearchResult {
  readonly hit: Omit<ChunkHit, 'score'>;
  /** The fused RRF score in hybrid mode; the leg's own score otherwise. */
  readonly score: number;
  readonly legs: Readonly<Partial<Record<Leg, LegRank>>>;
}

export interface SearchOutcome {
  readonly results: readonly SearchResult[];
  /** How the dense leg searched, when it ran. */
  readonly denseStrategy: DenseStrategy | null;
}

/** How deep each leg looks before fusion: results that only one leg ranks low still count. */
export function legDepth(k: number): number {
  return Math.min(100, Math.max(20, 2 * k));
}

function single(hits: readonly ChunkHit[], leg: Leg): SearchResult[] {
  return hits.map(({ score, ...hit }, index) => ({ hit, score, legs: { [leg]: { rank: index + 1, score } } }));
}

export async function search(tx: TenantConnection, embedder: Embedder, request: SearchRequest): Promise<SearchOutcome> {
  const { tenantId, query, k, mode, filters } = request;
  const depth = mode === 'hybrid' ? legDepth(k) : k;
  let dense: readonly ChunkHit[] = [];
  let lexical: readonly ChunkHit[] = [];
  let denseStrategy: DenseStrategy | null = null;
  if (mode !== 'lexical') {
    const [vector] = await embedder.embed([query]);
    const found = await denseSearch(tx, { tenantId, vector: vector!, model: embedder.model, k: depth, filters });
    dense = found.hits;
    denseStrategy = found.strategy;
  }
  if (mode !== 'dense') lexical = await lexicalSearch(tx, { tenantId, text: query, k: depth, filters });

  if (mode === 'dense') return { results: single(dense, 'dense'), denseStrategy };
  if (mode === 'lexical') return { results: single(lexical, 'lexical'), denseStrategy };
  const withIds = (hits: readonly ChunkHit[]) => hits.map((hit) => ({ ...hit, id: hit.chunkId }));
  const fused = reciprocalRankFusion({ dense: withIds(dense), lexical: withIds(lexical) }, { limit: k });
  const results = fused.map(({ item: { id: _id, score: _score, ...hit }, score, legs }) => ({ hit, score, legs }));
  return { results, denseStrategy };
}
