// The offline answerer: no model, just the sentences of the top chunks that share the most
// words with the question, each followed by the [n] of its chunk.
import { contentTerms, normalise, words } from '../text/terms.ts';
import { noContextAnswer, type Answer, type Answerer, type AnswerRequest, type ContextChunk } from './answerer.ts';

export const EXTRACTIVE_MODEL = 'quarry-extractive';

export interface ExtractiveAnswererOptions {
  readonly maxSentences?: number;
  /** Only the first chunks are read, as retrieval ranked them. */
  readonly maxChunks?: number;
  /** Longer sentences are cut at a word boundary (PDF text can lack full stops). */
  readonly maxSentenceLength?: number;
}

/** Shorter "sentences" are headings or labels, which answer nothing on their own. */
const MIN_SENTENCE_WORDS = 4;

interface Candidate {
  readonly n: number;
  readonly text: string;
  readonly overlap: number;
  /** Reading order across the chunks, for stable ties. */
  readonly order: number;
}

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

function sentences(text: string): string[] {
  return [...segmenter.segment(text)]
    .flatMap((segment) => segment.segment.split(/\n+/))
    .map((sentence) => sentence.replace(/\s+/g, ' ').trim())
    .filter((sentence) => words(sentence).length >= MIN_SENTENCE_WORDS);
}

function clip(sentence: string, maxLength: number): string {
  if (sentence.length <= maxLength) return sentence;
  const cut = sentence.slice(0, maxLength);
  const space = cut.lastIndexOf(' ');
  return `${space > maxLength / 2 ? cut.slice(0, space) : cut}…`;
}

export class ExtractiveAnswerer implements Answerer {
  readonly model = EXTRACTIVE_MODEL;
  private readonly maxSentences: number;
  private readonly maxChunks: number;
  private readonly maxSentenceLength: number;

  constructor(options: ExtractiveAnswererOptions = {}) {
    this.maxSentences = options.maxSentences ?? 3;
    this.maxChunks = options.maxChunks ?? 5;
    this.maxSentenceLength = options.maxSentenceLength ?? 400;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so that an abort rejects, never throws
  async answer(request: AnswerRequest): Promise<Answer> {
    request.signal?.throwIfAborted();
    const picked = this.pick(contentTerms(request.question), request.chunks.slice(0, this.maxChunks));
    if (picked.length === 0) return noContextAnswer(this.model, true);
    const text = picked
      .map((candidate) => `${clip(candidate.text, this.maxSentenceLength)} [${candidate.n}]`)
      .join(' ');
    return {
      text,
      citations: [...new Set(picked.map((candidate) => candidate.n))],
      model: this.model,
      usage: { promptTokens: 0, completionTokens: 0 },
      extractive: true,
    };
  }

  /** The sentences sharing most question terms; overlapping chunks' repeats are taken once. */
  private pick(terms: ReadonlySet<string>, chunks: readonly ContextChunk[]): Candidate[] {
    const candidates = chunks
      .flatMap((chunk) => sentences(chunk.text).map((text) => ({ n: chunk.n, text })))
      .map(({ n, text }, order) => {
        const overlap = [...contentTerms(text)].filter((term) => terms.has(term)).length;
        return { n, text, overlap, order };
      })
      .filter((candidate) => candidate.overlap > 0)
      .sort((a, b) => b.overlap - a.overlap || a.order - b.order);
    const seen = new Set<string>();
    return candidates
      .filter((candidate) => {
        const key = normalise(candidate.text);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .slice(0, this.maxSentences);
  }
}
