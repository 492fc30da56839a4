// Ranking metrics as BEIR reports them (pytrec_eval's ndcg_cut and recall): graded gains with
// a log2 discount, the ideal ranking from the qrels, recall over the judged relevant documents.
import type { Qrels } from './beir.ts';
import { mean } from './stats.ts';

/** The first occurrence of each id, in order: a document's best-ranked chunk stands for it. */
export function dedupe(ranked: readonly string[]): string[] {
  return [...new Set(ranked)];
}

/** nDCG@k of one ranking against the judged gains of its query. */
export function ndcgAt(k: number, ranked: readonly string[], judged: ReadonlyMap<string, number>): number {
  const dcg = dedupe(ranked)
    .slice(0, k)
    .reduce((sum, id, index) => sum + (judged.get(id) ?? 0) / Math.log2(index + 2), 0);
  const ideal = [...judged.values()]
    .sort((a, b) => b - a)
    .slice(0, k)
    .reduce((sum, gain, index) => sum + gain / Math.log2(index + 2), 0);
  return ideal > 0 ? dcg / ideal : 0;
}

/** The share of the query's relevant documents among the first k of the ranking. */
export function recallAt(k: number, ranked: readonly string[], judged: ReadonlyMap<string, number>): number {
  if (judged.size === 0) return 0;
  return (
    dedupe(ranked)
      .slice(0, k)
      .filter((id) => judged.has(id)).length / judged.size
  );
}

export interface Effectiveness {
  readonly ndcg: number;
  readonly recall: number;
  /** Queries whose ranking was empty. */
  readonly empty: number;
}

/** Means over every judged query; a query with no ranking counts 0. */
export function evaluate(k: number, qrels: Qrels, rankings: ReadonlyMap<string, readonly string[]>): Effectiveness {
  const queries = [...qrels.keys()];
  const of = (metric: typeof ndcgAt) =>
    mean(queries.map((query) => metric(k, rankings.get(query) ?? [], qrels.get(query)!)));
  const empty = queries.filter((query) => (rankings.get(query) ?? []).length === 0).length;
  return { ndcg: of(ndcgAt), recall: of(recallAt), empty };
}
