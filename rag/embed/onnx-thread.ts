// The body of the embedding thread (see onnx.ts): it verifies and loads the model once, then
// answers each batch of texts with their vectors, one batch at a time, in one Float32Array
// (batch × dimensions) moved, not copied, to the caller.
//
// Each text is tokenized, cut to the model's token limit ([CLS] … [SEP] kept), padded to the
// longest text of its batch, and run; the vector is the mean of the token states under the
// attention mask, scaled to unit length, as sentence-transformers computes it.
import { Tokenizer } from '@huggingface/tokenizers';
import ort from 'onnxruntime-node';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddingModelError } from '../errors.ts';
import { modelDirectory, readVerified } from './model-files.ts';
import type { OnnxModelSpec } from './onnx-models.ts';

/** What the thread is started with (its workerData). */
export interface ThreadSetup {
  readonly spec: OnnxModelSpec;
  readonly modelsDir: string;
  /** Threads one inference may use (onnxruntime's intra-op pool). */
  readonly threads: number;
}

export interface BatchRequest {
  readonly id: number;
  readonly texts: readonly string[];
}

/** The thread's first message, then one reply per request. */
export type ThreadMessage =
  | { readonly ready: true }
  | { readonly modelError: { readonly file: string; readonly problem: string } }
  | { readonly id: number; readonly vectors: Float32Array }
  | { readonly id: number; readonly error: string };

/**
 * The part of @huggingface/tokenizers used here. Its own declarations do not resolve under
 * NodeNext (extensionless relative imports), so they are declared again, narrowly.
 */
interface WordPieceTokenizer {
  encode(text: string): { ids: number[] };
  token_to_id(token: string): number | undefined;
}
const TokenizerClass = Tokenizer as unknown as new (tokenizer: object, config: object) => WordPieceTokenizer;

const { spec, modelsDir, threads } = workerData as ThreadSetup;
const port = parentPort!;

function load() {
  const dir = modelDirectory(modelsDir, spec);
  const json = (file: OnnxModelSpec['files']['tokenizer']) =>
    JSON.parse(readVerified(spec, file, path.join(dir, file.name)).toString('utf8')) as object;
  const tokenizer = new TokenizerClass(json(spec.files.tokenizer), json(spec.files.tokenizerConfig));
  const sep = tokenizer.token_to_id('[SEP]');
  if (sep === undefined) throw new EmbeddingModelError(spec.name, spec.files.tokenizer.name, 'has no [SEP] token');
  const model = readVerified(spec, spec.files.model, path.join(dir, spec.files.model.name));
  return { tokenizer, sep, model };
}

let loaded: ReturnType<typeof load> | undefined;
try {
  loaded = load();
} catch (error) {
  // A missing or altered file is reported as such; anything else ends the thread ('error').
  if (!(error instanceof EmbeddingModelError)) throw error;
  port.postMessage({ modelError: { file: error.file, problem: error.problem } } satisfies ThreadMessage);
  port.close();
}
if (loaded) await serve(loaded);

async function serve({ tokenizer, sep, model }: NonNullable<typeof loaded>) {
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // The arena keeps the largest batch's buffers for good; without it memory stays near the model's.
    enableCpuMemArena: false,
    // Idle pool threads sleep rather than spin: on 2 shared cores spinning doubled the CPU time
    // per passage, taken from the process's own thread and its neighbours.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });

  function tokenize(text: string): number[] {
    const ids = tokenizer.encode(text).ids;
    return ids.length <= spec.maxTokens ? ids : [...ids.slice(0, spec.maxTokens - 1), sep];
  }

  async function embedBatch(texts: readonly string[]): Promise<Float32Array> {
    const encoded = texts.map(tokenize);
    const width = Math.max(...encoded.map((ids) => ids.length));
    const ids = new BigInt64Array(texts.length * width);
    const mask = new BigInt64Array(texts.length * width);
    encoded.forEach((tokens, row) =>
      tokens.forEach((id, column) => {
        ids[row * width + column] = BigInt(id);
        mask[row * width + column] = 1n;
      }),
    );
    const shape = [texts.length, width];
    const outputs = await session.run({
      input_ids: new ort.Tensor('int64', ids, shape),
      attention_mask: new ort.Tensor('int64', mask, shape),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(ids.length), shape),
    });
    const states = outputs.last_hidden_state!.data as Float32Array;
    const dims = spec.dimensions;
    const vectors = new Float32Array(texts.length * dims);
    encoded.forEach((tokens, row) => {
      const vector = vectors.subarray(row * dims, (row + 1) * dims);
      for (let t = 0; t < tokens.length; t++) {
        const offset = (row * width + t) * dims;
        for (let d = 0; d < dims; d++) vector[d]! += states[offset + d]!;
      }
      let norm = 0;
      for (let d = 0; d < dims; d++) norm += vector[d]! * vector[d]!;
      // The mean's 1/n cancels in the normalisation.
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let d = 0; d < dims; d++) vector[d]! *= scale;
    });
    return vectors;
  }

  port.on('message', (request: BatchRequest) => {
    embedBatch(request.texts).then(
      (vectors) =>
        port.postMessage({ id: request.id, vectors } satisfies ThreadMessage, [vectors.buffer as ArrayBuffer]),
      (error: unknown) =>
        port.postMessage({
          id: request.id,
          error: error instanceof Error ? error.message : String(error),
        } satisfies ThreadMessage),
    );
  });
  port.postMessage({ ready: true } satisfies ThreadMessage);
}
