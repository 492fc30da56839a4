// A BEIR data set as it sits on disk (corpus.jsonl, queries.jsonl, qrels/test.tsv), read from
// where it is: the benchmarks never copy one into the repository (SciFact's licence is
// non-commercial).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export interface BeirDocument {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

export interface BeirQuery {
  readonly id: string;
  readonly text: string;
}

/** Graded relevance: query id → corpus id → gain (only gains above 0 are kept). */
export type Qrels = ReadonlyMap<string, ReadonlyMap<string, number>>;

export interface BeirDataset {
  readonly corpus: readonly BeirDocument[];
  /** The queries that have judgements in the qrels, in the order of queries.jsonl. */
  readonly queries: readonly BeirQuery[];
  readonly qrels: Qrels;
}

const CorpusLine = z.object({ _id: z.string(), title: z.string().default(''), text: z.string() });
const QueryLine = z.object({ _id: z.string(), text: z.string() });

function jsonLines<T>(file: string, schema: z.ZodType<T>): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => schema.parse(JSON.parse(line)));
}

function readQrels(file: string): Map<string, Map<string, number>> {
  const qrels = new Map<string, Map<string, number>>();
  const [header, ...lines] = readFileSync(file, 'utf8').split('\n');
  if (!header?.startsWith('query-id')) throw new Error(`${file}: expected a query-id/corpus-id/score header`);
  for (const line of lines) {
    if (!line.trim()) continue;
    const [queryId, corpusId, score] = line.split('\t');
    const gain = Number(score);
    if (!queryId || !corpusId || !Number.isFinite(gain)) throw new Error(`${file}: bad line ${JSON.stringify(line)}`);
    if (gain <= 0) continue;
    const judged = qrels.get(queryId) ?? new Map<string, number>();
    judged.set(corpusId, gain);
    qrels.set(queryId, judged);
  }
  return qrels;
}

/** Reads the data set in `dir` with the qrels of `split` (BEIR's test split by default). */
export function readBeir(dir: string, split = 'test'): BeirDataset {
  const qrels = readQrels(path.join(dir, 'qrels', `${split}.tsv`));
  const corpus = jsonLines(path.join(dir, 'corpus.jsonl'), CorpusLine).map(({ _id, title, text }) => ({
    id: _id,
    title,
    text,
  }));
  const queries = jsonLines(path.join(dir, 'queries.jsonl'), QueryLine)
    .filter((query) => qrels.has(query._id))
    .map(({ _id, text }) => ({ id: _id, text }));
  return { corpus, queries, qrels };
}

/**
 * A smaller data set for a quick run: `limit` corpus documents that still hold every relevant
 * document of the queries kept. Queries are kept in order while their relevant documents fill
 * at most half of `limit` (at least one query), and the rest are the corpus's first documents,
 * as distractors. The qrels keep only the queries kept.
 */
export function limitBeir(dataset: BeirDataset, limit: number): BeirDataset {
  if (limit >= dataset.corpus.length) return dataset;
  const inCorpus = new Set(dataset.corpus.map((document) => document.id));
  const needed = new Set<string>();
  const queries: BeirQuery[] = [];
  for (const query of dataset.queries) {
    const relevant = [...dataset.qrels.get(query.id)!.keys()].filter((id) => inCorpus.has(id));
    const grown = new Set([...needed, ...relevant]);
    if (queries.length > 0 && grown.size > limit / 2) break;
    relevant.forEach((id) => needed.add(id));
    queries.push(query);
  }
  const kept = new Set(needed);
  for (const document of dataset.corpus) {
    if (kept.size >= Math.max(limit, needed.size)) break;
    kept.add(document.id);
  }
  const qrels = new Map(queries.map((query) => [query.id, dataset.qrels.get(query.id)!]));
  return { corpus: dataset.corpus.filter((document) => kept.has(document.id)), queries, qrels };
}

/** A document as one plain-text file holds it: the title, a blank line, the abstract. */
export function documentText(document: BeirDocument): string {
  return document.title ? `${document.title}\n\n${document.text}` : document.text;
}
