// A neural sentence embedder that runs offline: an ONNX model (onnx-models.ts) in a worker
// thread of its own (onnx-thread.ts), so inference never blocks the event loop of the API or
// of the worker's activities (heartbeats, other requests).
//
// One thread per embedder, started on first use, holds the model; a queue gives it one batch
// at a time. Texts are sorted by length and cut into batches of similar lengths within a token
// budget (so little of a batch is padding); batches of concurrent calls take turns in the
// queue, so a short query waits for at most one batch of a long ingestion. An aborted call
// leaves the queue at once.
import { Worker } from 'node:worker_threads';
import PQueue from 'p-queue';
import { EmbeddingModelError } from '../errors.ts';
import { estimateTokens } from './batching.ts';
import type { EmbedOptions, Embedder } from './embedder.ts';
import type { OnnxModelSpec } from './onnx-models.ts';
import type { BatchRequest, ThreadMessage, ThreadSetup } from './onnx-thread.ts';

export interface OnnxEmbedderOptions {
  readonly spec: OnnxModelSpec;
  /** The directory holding `<model name>/` with the model's files. */
  readonly modelsDir: string;
  /** Threads one inference may use. */
  readonly threads: number;
  /**
   * Tokens (estimated) per inference run: texts of similar length are run together up to this
   * many. A full-length passage runs alone (measured fastest on 2 cores: batching 256-token
   * passages only adds cache misses), while short texts such as queries share a run.
   */
  readonly batchTokens: number;
}

const THREAD = new URL('./onnx-thread.ts', import.meta.url);

interface Pending {
  readonly resolve: (vectors: Float32Array) => void;
  readonly reject: (error: Error) => void;
}

/** The running thread: it answers requests by id, in the order the queue sends them. */
class EmbeddingThread {
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(setup: ThreadSetup, onEnd: (ended: EmbeddingThread) => void) {
    // Without execArgv the thread inherits the process's, tsx's loader included.
    this.worker = new Worker(THREAD, { workerData: setup });
    this.worker.unref();
    this.ready = new Promise((resolve, reject) => {
      const end = (error: Error) => {
        this.failure ??= error;
        reject(this.failure);
        for (const { reject: rejectPending } of this.pending.values()) rejectPending(this.failure);
        this.pending.clear();
        onEnd(this);
      };
      this.worker.on('message', (message: ThreadMessage) => {
        if ('ready' in message) resolve();
        else if ('modelError' in message) {
          end(new EmbeddingModelError(setup.spec.name, message.modelError.file, message.modelError.problem));
        } else this.settle(message);
      });
      this.worker.once('error', (error: Error) =>
        end(new Error(`The embedding thread failed: ${error.message}`, { cause: error })),
      );
      this.worker.once('exit', (code) => end(new Error(`The embedding thread exited with code ${code}`)));
    });
    // Callers see the failure through run(); this keeps an unawaited rejection quiet.
    this.ready.catch(() => undefined);
  }

  async run(texts: readonly string[]): Promise<Float32Array> {
    await this.ready;
    const id = this.nextId++;
    // Referenced while a batch is out, so that a process waiting for it does not exit.
    this.worker.ref();
    try {
      return await new Promise<Float32Array>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.worker.postMessage({ id, texts } satisfies BatchRequest);
      });
    } finally {
      if (this.pending.size === 0) this.worker.unref();
    }
  }

  async terminate(): Promise<void> {
    this.failure ??= new Error('The embedder was closed');
    await this.worker.terminate();
  }

  private settle(message: Extract<ThreadMessage, { id: number }>): void {
    const waiting = this.pending.get(message.id);
    this.pending.delete(message.id);
    if ('vectors' in message) waiting?.resolve(message.vectors);
    else waiting?.reject(new Error(`The embedding thread could not embed a batch: ${message.error}`));
  }
}

export class OnnxEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  private readonly queue = new PQueue({ concurrency: 1 });
  private thread: EmbeddingThread | undefined;

  constructor(private readonly options: OnnxEmbedderOptions) {
    this.model = options.spec.name;
    this.dimensions = options.spec.dimensions;
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
    const { signal } = options;
    signal?.throwIfAborted();
    const vectors = new Array<number[]>(texts.length);
    await Promise.all(
      this.batches(texts).map(async (batch) => {
        const flat = await this.queue.add(() => this.started().run(batch.map((index) => texts[index]!)), { signal });
        batch.forEach((index, row) => {
          vectors[index] = Array.from(flat.subarray(row * this.dimensions, (row + 1) * this.dimensions));
        });
      }),
    );
    return vectors;
  }

  /** Indices of the texts, sorted by length and grouped into runs within the token budget. */
  private batches(texts: readonly string[]): number[][] {
    const { spec, batchTokens } = this.options;
    // [CLS] and [SEP] count too; a text longer than the model's limit is cut to it.
    const cost = (index: number) => Math.min(estimateTokens(texts[index]!) + 2, spec.maxTokens);
    const order = texts.map((_, index) => index).sort((a, b) => cost(a) - cost(b));
    const batches: number[][] = [];
    let batch: number[] = [];
    for (const index of order) {
      // Padded to its longest (last) text, a batch costs its size times that text's tokens.
      if (batch.length > 0 && (batch.length + 1) * cost(index) > batchTokens) {
        batches.push(batch);
        batch = [];
      }
      batch.push(index);
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }

  /** Loads the model now (it is otherwise loaded by the first call): fails if it cannot be. */
  async warmUp(): Promise<void> {
    await this.embed(['warm-up']);
  }

  /** Ends the thread; a later call starts another. */
  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    this.queue.clear();
    await thread?.terminate();
  }

  private started(): EmbeddingThread {
    this.thread ??= new EmbeddingThread(
      { spec: this.options.spec, modelsDir: this.options.modelsDir, threads: this.options.threads },
      (ended) => {
        if (this.thread === ended) this.thread = undefined;
      },
    );
    return this.thread;
  }
}
