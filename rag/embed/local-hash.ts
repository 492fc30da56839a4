// An offline, deterministic embedder: no model, no download. Three feature groups are hashed
// into `dimensions` signed buckets:
//   - word unigrams, lightly stemmed (stopwords dropped),
//   - word bigrams (over all words, except stopword-only pairs),
//   - character 3- to 5-grams of each content word, padded as `<word>` (catches inflections).
// Each feature weighs 1 + ln(tf) (sublinear term frequency). Each group is L2-normalised on its
// own and mixed with fixed weights, so long words' many n-grams cannot drown the words, and
// the result is L2-normalised: cosine similarity is then a dot product.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isStopword, stem, words } from '../text/terms.ts';
import { l2Normalise, type EmbedOptions, type Embedder } from './embedder.ts';
import { hashFeature } from './hashing.ts';

export const LOCAL_HASH_MODEL = 'quarry-hash-384';

/** Texts embedded between two yields to the event loop (so an activity's heartbeats go out). */
const TEXTS_PER_YIELD = 16;

const GROUP_WEIGHTS = { word: 0.5, bigram: 0.2, char: 0.3 } as const;
type Group = keyof typeof GROUP_WEIGHTS;

function charGrams(word: string): string[] {
  const padded = `<${word}>`;
  const grams: string[] = [];
  for (let n = 3; n <= 5; n++) {
    for (let i = 0; i + n <= padded.length; i++) grams.push(padded.slice(i, i + n));
  }
  return grams;
}

function features(text: string): Record<Group, string[]> {
  const all = words(text);
  const content = all.filter((word) => !isStopword(word));
  const bigrams = all
    .slice(1)
    .flatMap((word, i) => (isStopword(word) && isStopword(all[i]!) ? [] : [`${all[i]} ${word}`]));
  // A text without words ("---", "") still gets a stable, non-zero vector from its raw characters.
  const fallback = content.length === 0 && bigrams.length === 0 ? [text.trim()] : [];
  return { word: [...content.map(stem), ...fallback], bigram: bigrams, char: content.flatMap(charGrams) };
}

export class LocalHashEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;

  constructor(options: { model?: string; dimensions?: number } = {}) {
    this.model = options.model ?? LOCAL_HASH_MODEL;
    this.dimensions = options.dimensions ?? 384;
    if (!Number.isInteger(this.dimensions) || this.dimensions < 1) {
      throw new RangeError(`dimensions must be a positive integer, got ${this.dimensions}`);
    }
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
    options.signal?.throwIfAborted();
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += TEXTS_PER_YIELD) {
      if (start > 0) {
        await yieldToEventLoop();
        options.signal?.throwIfAborted();
      }
      for (const text of texts.slice(start, start + TEXTS_PER_YIELD)) vectors.push(this.embedOne(text));
    }
    return vectors;
  }

  embedOne(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    for (const [group, groupFeatures] of Object.entries(features(text)) as [Group, string[]][]) {
      const groupVector = this.hashGroup(group, groupFeatures);
      const weight = Math.sqrt(GROUP_WEIGHTS[group]);
      for (const [bucket, value] of groupVector) vector[bucket]! += weight * value;
    }
    return l2Normalise(vector);
  }

  /** One group's sparse vector, L2-normalised: bucket → value. */
  private hashGroup(group: Group, groupFeatures: readonly string[]): Map<number, number> {
    const counts = new Map<string, number>();
    for (const feature of groupFeatures) counts.set(feature, (counts.get(feature) ?? 0) + 1);
    const sparse = new Map<number, number>();
    for (const [feature, count] of counts) {
      const { bucket, sign } = hashFeature(`${group}:${feature}`, this.dimensions);
      sparse.set(bucket, (sparse.get(bucket) ?? 0) + sign * (1 + Math.log(count)));
    }
    const norm = Math.sqrt([...sparse.values()].reduce((sum, value) => sum + value * value, 0));
    if (norm > 0) for (const [bucket, value] of sparse) sparse.set(bucket, value / norm);
    return sparse;
  }
}
