// A plain BM25, as a 50-line script outside Quarry would rank: the baseline that bench:quality
// measures Quarry's search against, over the same texts in the same run. In memory, per
// document (not per chunk), nothing tuned to the benchmark:
//   - tokens: NFKC, lowercase, runs of letters and digits; Lucene's English stop words removed;
//     Harman's S-stemmer (plurals only: -ies → -y, -es → -e, -s → ''), a conservative stemmer
//     chosen over Porter so that the baseline needs no stemming library and no 150 lines of its own;
//   - Lucene's BM25: idf = ln(1 + (N − df + 0.5) / (df + 0.5)), k1 = 0.9 and b = 0.4 (Anserini's
//     defaults, those of BEIR's published BM25 figures).
// Written here rather than taken from npm: the benchmark needs ranking only, and a dependency
// (with its own tokenizer and defaults) for 50 lines would hide what the baseline is.

/** Lucene's EnglishAnalyzer stop words. */
const STOP_WORDS = new Set(
  'a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with'.split(
    ' ',
  ),
);

/** Harman's S-stemmer (1991): English plurals to their singular. */
function sStem(word: string): string {
  if (word.length > 3 && word.endsWith('ies') && !/[ae]ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('es') && !/[aeo]es$/.test(word)) return word.slice(0, -1);
  if (word.length > 2 && word.endsWith('s') && !/[us]s$/.test(word)) return word.slice(0, -1);
  return word;
}

export function tokenize(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  )
    .filter((token) => !STOP_WORDS.has(token))
    .map(sStem);
}

export interface Bm25Options {
  readonly k1: number;
  readonly b: number;
}

export const BM25_DEFAULTS: Bm25Options = { k1: 0.9, b: 0.4 };

export class Bm25Index {
  private readonly ids: string[] = [];
  private readonly lengths: number[] = [];
  /** term → [document index, term frequency] pairs. */
  private readonly postings = new Map<string, [number, number][]>();

  constructor(private readonly options: Bm25Options = BM25_DEFAULTS) {}

  add(id: string, text: string): void {
    const tokens = tokenize(text);
    const frequencies = new Map<string, number>();
    for (const token of tokens) frequencies.set(token, (frequencies.get(token) ?? 0) + 1);
    const index = this.ids.push(id) - 1;
    this.lengths.push(tokens.length);
    for (const [term, tf] of frequencies) {
      const list = this.postings.get(term) ?? [];
      list.push([index, tf]);
      this.postings.set(term, list);
    }
  }

  /** The ids of the k best documents for the query, best first (ties by insertion order). */
  search(query: string, k: number): string[] {
    const { k1, b } = this.options;
    const n = this.ids.length;
    const averageLength = this.lengths.reduce((sum, length) => sum + length, 0) / Math.max(1, n);
    const scores = new Map<number, number>();
    for (const term of tokenize(query)) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
      for (const [index, tf] of list) {
        const norm = tf + k1 * (1 - b + (b * this.lengths[index]!) / averageLength);
        scores.set(index, (scores.get(index) ?? 0) + (idf * tf * (k1 + 1)) / norm);
      }
    }
    return [...scores]
      .sort(([ia, a], [ib, b]) => b - a || ia - ib)
      .slice(0, k)
      .map(([index]) => this.ids[index]!);
  }
}
