/** Turns texts into vectors of one model's space; `embed` returns one vector per text, in order. */
export interface Embedder {
  readonly model: string;
  readonly dimensions: number;
  embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]>;
  /** Loads what the embedder needs before the first call, failing now if it cannot (local models). */
  warmUp?(): Promise<void>;
  /** Releases what the embedder holds (a local model's thread). */
  close?(): Promise<void>;
}

export interface EmbedOptions {
  readonly signal?: AbortSignal;
}

/** Scales a vector to unit length (a zero vector is returned unchanged). */
export function l2Normalise(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm === 0 ? vector : vector.map((value) => value / norm);
}
