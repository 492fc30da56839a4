// Embeddings from any OpenAI-compatible endpoint (OpenAI, Ollama, vLLM) through the openai SDK.
// Inputs are packed into requests within the API limits and sent one request at a time; an
// input too long for the model is cut into pieces whose vectors are averaged back into one.
import type OpenAI from 'openai';
import { PermanentProviderError } from '../errors.ts';
import { callProvider } from '../provider/classify.ts';
import { providerLabel } from '../provider/openai-client.ts';
import {
  estimateTokens,
  OPENAI_EMBEDDING_LIMITS,
  planBatches,
  splitByTokens,
  type EmbeddingLimits,
} from './batching.ts';
import { l2Normalise, type EmbedOptions, type Embedder } from './embedder.ts';

export interface OpenAIEmbedderOptions {
  readonly client: OpenAI;
  readonly model: string;
  readonly dimensions: number;
  /** Send `dimensions` in the request (only models that can shorten vectors, e.g. text-embedding-3-*). */
  readonly requestDimensions?: boolean;
  readonly limits?: Partial<EmbeddingLimits>;
}

interface Piece {
  readonly owner: number;
  readonly text: string;
}

export class OpenAIEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  readonly limits: EmbeddingLimits;
  private readonly client: OpenAI;
  private readonly requestDimensions: boolean;
  private readonly provider: string;

  constructor(options: OpenAIEmbedderOptions) {
    this.client = options.client;
    this.model = options.model;
    this.dimensions = options.dimensions;
    this.requestDimensions = options.requestDimensions ?? false;
    this.limits = { ...OPENAI_EMBEDDING_LIMITS, ...options.limits };
    this.provider = providerLabel(options.client);
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
    const pieces = texts.flatMap((text, owner) =>
      // The API refuses an empty string; a space embeds as "nothing" just as well.
      splitByTokens(text === '' ? ' ' : text, this.limits.maxTokensPerInput).map((piece) => ({ owner, text: piece })),
    );
    const vectors: number[][] = [];
    for (const [start, end] of planBatches(
      pieces.map((piece) => estimateTokens(piece.text)),
      this.limits,
    )) {
      vectors.push(...(await this.request(pieces.slice(start, end), options.signal)));
    }
    return combine(texts.length, pieces, vectors);
  }

  private async request(pieces: readonly Piece[], signal: AbortSignal | undefined): Promise<number[][]> {
    const response = await callProvider(this.provider, this.model, () =>
      this.client.embeddings.create(
        {
          model: this.model,
          input: pieces.map((piece) => piece.text),
          encoding_format: 'float',
          ...(this.requestDimensions ? { dimensions: this.dimensions } : {}),
        },
        { signal },
      ),
    );
    const vectors = new Array<number[] | undefined>(pieces.length);
    for (const item of response.data) vectors[item.index] = item.embedding;
    return vectors.map((vector, index) => this.validated(vector, index));
  }

  private validated(vector: number[] | undefined, index: number): number[] {
    const reject = (problem: string) =>
      new PermanentProviderError(this.provider, this.model, undefined, `${this.provider} returned ${problem}`);
    if (!Array.isArray(vector)) throw reject(`no embedding for input ${index}`);
    if (vector.length !== this.dimensions) {
      throw reject(`${vector.length}-dimensional embeddings, but ${this.model} is configured for ${this.dimensions}`);
    }
    if (!vector.every(Number.isFinite)) throw reject(`a non-numeric embedding for input ${index}`);
    return vector;
  }
}

/** One vector per text: a text cut into pieces gets their length-weighted mean, re-normalised. */
function combine(count: number, pieces: readonly Piece[], vectors: readonly number[][]): number[][] {
  const parts = Array.from({ length: count }, () => [] as Array<{ vector: number[]; weight: number }>);
  pieces.forEach((piece, index) => parts[piece.owner]!.push({ vector: vectors[index]!, weight: piece.text.length }));
  return parts.map((own) => {
    if (own.length === 1) return own[0]!.vector;
    const sum = new Array<number>(own[0]!.vector.length).fill(0);
    for (const { vector, weight } of own) vector.forEach((value, i) => (sum[i]! += value * weight));
    return l2Normalise(sum);
  });
}
