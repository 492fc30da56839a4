// Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): an item's fused score is the
// sum over the result lists ("legs") that hold it of weight / (k + rank), ranks from 1. Only
// ranks count, so legs with incomparable scores (cosine, ts_rank) fuse fairly.

export interface RankedItem {
  readonly id: string;
  /** The leg's own score (kept for display; fusion uses only the rank). */
  readonly score: number;
}

export interface LegRank {
  /** 1-based position in that leg. */
  readonly rank: number;
  readonly score: number;
}

export interface FusedResult<T extends RankedItem, L extends string> {
  readonly id: string;
  /** The fused RRF score. */
  readonly score: number;
  /** Rank and score in each leg that returned the item. */
  readonly legs: Readonly<Partial<Record<L, LegRank>>>;
  /** The item as the first leg that holds it returned it. */
  readonly item: T;
}

export interface FusionOptions<L extends string> {
  /** Dampens the weight of top ranks; 60 is the paper's value. */
  readonly k?: number;
  readonly weights?: Readonly<Partial<Record<L, number>>>;
  readonly limit?: number;
}

/**
 * Fuses best-first lists keyed by leg name, e.g. `{ dense, lexical }`. A repeated id keeps its
 * best rank in a leg. Ties break by the best rank in any leg, then by first appearance.
 */
export function reciprocalRankFusion<T extends RankedItem, L extends string>(
  lists: Readonly<Record<L, readonly T[]>>,
  options: FusionOptions<L> = {},
): FusedResult<T, L>[] {
  const k = options.k ?? 60;
  type Entry = { score: number; legs: Partial<Record<L, LegRank>>; item: T; order: number };
  const fused = new Map<string, Entry>();
  for (const leg of Object.keys(lists) as L[]) {
    const weight = options.weights?.[leg] ?? 1;
    for (const [index, item] of lists[leg].entries()) {
      const entry: Entry = fused.get(item.id) ?? { score: 0, legs: {}, item, order: fused.size };
      if (entry.legs[leg] !== undefined) continue;
      entry.legs[leg] = { rank: index + 1, score: item.score };
      entry.score += weight / (k + index + 1);
      fused.set(item.id, entry);
    }
  }
  const bestRank = (legs: Partial<Record<L, LegRank>>) =>
    Math.min(...Object.values<LegRank | undefined>(legs).map((leg) => leg?.rank ?? Infinity));
  const results = [...fused.entries()]
    .sort(([, a], [, b]) => b.score - a.score || bestRank(a.legs) - bestRank(b.legs) || a.order - b.order)
    .map(([id, { score, legs, item }]) => ({ id, score, legs, item }));
  return options.limit === undefined ? results : results.slice(0, options.limit);
}
