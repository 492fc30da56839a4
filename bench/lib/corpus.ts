// A synthetic but text-like corpus for the search benchmark, fully determined by a seed.
// Pseudo-words are built from syllables; each topic favours its own few dozen words, so
// chunks of one topic share vocabulary (clusters in embedding space, matches in full-text
// search) while a Zipfian background vocabulary and English stopwords fill the rest.

export type Random = () => number;

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = (
  'ka lo ri ta ven mor sil dra pe nu thal gor mi sha bre tu zan fel qui os ar lin ced vor ' +
  'pa ne sto gri hal um ber tis co lu dan rex fi mar go bel sen tor ix ul'
).split(' ');

const STOPWORDS = 'the of and to in is that for on with as by at from this it are was be which or an'.split(' ');

export interface CorpusModel {
  readonly vocabulary: readonly string[];
  /** Each topic's favoured words, most frequent first. */
  readonly topics: readonly (readonly string[])[];
}

export interface CorpusOptions {
  readonly vocabularySize?: number;
  readonly topicCount?: number;
  readonly wordsPerTopic?: number;
}

/** Index in [0, n) drawn from a Zipf-like distribution (rank r with weight about 1/r). */
function zipf(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(Math.exp(random() * Math.log(n + 1)) - 1));
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

export function createCorpusModel(seed: number, options: CorpusOptions = {}): CorpusModel {
  const random = seededRandom(seed);
  const size = options.vocabularySize ?? 8000;
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + Math.floor(random() * 3);
    words.add(Array.from({ length: syllables }, () => pick(random, SYLLABLES)).join(''));
  }
  const vocabulary = [...words];
  const topics = Array.from({ length: options.topicCount ?? 400 }, () =>
    Array.from({ length: options.wordsPerTopic ?? 40 }, () => pick(random, vocabulary)),
  );
  return { vocabulary, topics };
}

function word(model: CorpusModel, random: Random, topic: number): string {
  const roll = random();
  if (roll < 0.5) {
    const words = model.topics[topic]!;
    return words[zipf(random, words.length)]!;
  }
  if (roll < 0.8) return model.vocabulary[zipf(random, model.vocabulary.length)]!;
  return pick(random, STOPWORDS);
}

/** A chunk of about `words` words in sentences, mostly about `topic`. */
export function chunkText(model: CorpusModel, random: Random, topic: number, words = 90): string {
  const sentences: string[] = [];
  let written = 0;
  while (written < words) {
    const length = 8 + Math.floor(random() * 9);
    const sentence = Array.from({ length }, () => word(model, random, topic)).join(' ');
    sentences.push(`${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`);
    written += length;
  }
  return sentences.join(' ');
}

/** A short query of a few of the topic's words, as someone searching for it would type. */
export function queryText(model: CorpusModel, random: Random, topic: number): string {
  const words = model.topics[topic]!;
  const length = 3 + Math.floor(random() * 4);
  return Array.from({ length }, () => words[zipf(random, words.length)]!).join(' ');
}
