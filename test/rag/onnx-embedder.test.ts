// The ONNX embedder against the PyTorch original: its vectors and similarities must be those of
// all-MiniLM-L6-v2 (figures computed with the fp32 weights of the original model, mean pooling
// and L2 norm, as sentence-transformers does), whatever the batching, and its thread must load
// only the pinned files. The model is installed by `npm test` (the toolchain).
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { loadConfig } from '../../config.ts';
import { EmbeddingModelError } from '../../rag/errors.ts';
import { createEmbedder } from '../../rag/embed/factory.ts';
import { ALL_MINILM_L6_V2, modelFiles } from '../../rag/embed/onnx-models.ts';
import { OnnxEmbedder } from '../../rag/embed/onnx.ts';

const test = anyTest as TestFn<{ embedder: OnnxEmbedder }>;
const config = loadConfig({ EMBEDDING_PROVIDER: 'onnx', EMBEDDING_MODEL: ALL_MINILM_L6_V2.name });

test.before((t) => {
  const embedder = createEmbedder(config);
  if (!(embedder instanceof OnnxEmbedder)) throw new Error('expected the ONNX embedder');
  t.context.embedder = embedder;
});
test.after.always((t) => t.context.embedder.close());

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

const SENTENCES = [
  'A man is eating food.',
  'A man is eating a piece of bread.',
  'The stock market fell sharply today.',
  'Shares tumbled on Wall Street this afternoon.',
  'How do I reset my password?',
  'Steps to recover access to my account',
  'The cat sleeps on the sofa.',
  'Quarterly revenue grew by ten percent.',
];

test('gives the vectors of the original model', async (t) => {
  const vectors = await t.context.embedder.embed(SENTENCES);
  t.is(vectors.length, SENTENCES.length);
  for (const vector of vectors) {
    t.is(vector.length, 384);
    t.true(Math.abs(dot(vector, vector) - 1) < 1e-5);
  }
  // The first components of "A man is eating food." under the fp32 original.
  const reference = [0.03324, 0.004406, -0.006277, 0.04838, -0.1387];
  reference.forEach((value, i) => t.true(Math.abs(vectors[0]![i]! - value) < 0.005, `component ${i}`));
  // Cosine similarities of the fp32 original, pair by pair.
  for (const [a, b, expected] of [
    [0, 1, 0.755],
    [0, 2, 0.004],
    [2, 3, 0.549],
    [2, 6, -0.0],
    [4, 5, 0.6],
    [4, 7, -0.021],
  ] as const) {
    t.true(Math.abs(dot(vectors[a]!, vectors[b]!) - expected) < 0.01, `${a}~${b}: ${dot(vectors[a]!, vectors[b]!)}`);
  }
});

test('ranks paraphrases above texts that share words with the query', async (t) => {
  const [query, paraphrase, sameWords] = await t.context.embedder.embed([
    'how do I get my money back',
    'Refunds are issued to the original card within five days.',
    'I back up my files and get on with my day.',
  ]);
  t.true(dot(query!, paraphrase!) > dot(query!, sameWords!) + 0.1);
});

test('embeds the same text the same way alone and among others of every length', async (t) => {
  const long = 'Glaciers retreat as the climate warms and their meltwater raises the sea. '.repeat(60);
  const texts = ['', 'short', long, ...SENTENCES];
  const together = await t.context.embedder.embed(texts);
  for (const [index, text] of texts.entries()) {
    const [alone] = await t.context.embedder.embed([text]);
    t.true(dot(alone!, together[index]!) > 0.99999, `text ${index}`);
  }
  // Cut at 256 tokens: what comes after does not change the vector.
  const [longer] = await t.context.embedder.embed([`${long} Unrelated: stock prices and football results.`]);
  t.true(dot(longer!, together[2]!) > 0.99999);
});

test('answers concurrent calls each with its own vectors', async (t) => {
  const calls = SENTENCES.map((sentence) => t.context.embedder.embed([sentence]));
  const separate = await Promise.all(calls);
  const together = await t.context.embedder.embed(SENTENCES);
  separate.forEach(([vector], index) => t.true(dot(vector!, together[index]!) > 0.99999));
});

test('stops when its signal is aborted', async (t) => {
  const controller = new AbortController();
  controller.abort(new Error('cancelled'));
  await t.throwsAsync(t.context.embedder.embed(['x'], { signal: controller.signal }), { message: 'cancelled' });
});

test('refuses model files other than the pinned ones', async (t) => {
  const modelsDir = mkdtempSync(path.join(os.tmpdir(), 'quarry-models-'));
  const dir = path.join(modelsDir, ALL_MINILM_L6_V2.name);
  mkdirSync(dir);
  for (const file of modelFiles(ALL_MINILM_L6_V2)) {
    copyFileSync(path.join(config.EMBEDDING_MODEL_DIR, ALL_MINILM_L6_V2.name, file.name), path.join(dir, file.name));
  }
  writeFileSync(path.join(dir, 'tokenizer_config.json'), '{"do_lower_case": false}');
  const altered = createEmbedder({ ...config, EMBEDDING_MODEL_DIR: modelsDir });
  try {
    const error = await t.throwsAsync(altered.embed(['x']), { instanceOf: EmbeddingModelError });
    t.is(error?.file, path.join(dir, 'tokenizer_config.json'));
    t.regex(error?.problem ?? '', /^has sha256 [0-9a-f]{64}, not the pinned acb92769/);
  } finally {
    await altered.close?.();
  }

  const empty = createEmbedder({ ...config, EMBEDDING_MODEL_DIR: path.join(modelsDir, 'none') });
  const missing = await t.throwsAsync(empty.embed(['x']), { instanceOf: EmbeddingModelError });
  t.is(missing?.problem, 'is missing');
  t.is(missing?.code, 'embedding_model_unavailable');
});

test('configuration refuses an unknown local model or another dimension', (t) => {
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'onnx', EMBEDDING_MODEL: 'bge-small' }), {
    message: /EMBEDDING_MODEL: bge-small is not a local ONNX model \(known: all-MiniLM-L6-v2\)/,
  });
  t.throws(() => loadConfig({ EMBEDDING_DIMENSIONS: '768' }), {
    message: /EMBEDDING_DIMENSIONS: all-MiniLM-L6-v2 makes 384-dimensional vectors/,
  });
  t.like(loadConfig({}), { EMBEDDING_PROVIDER: 'onnx', EMBEDDING_MODEL: 'all-MiniLM-L6-v2' });
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'local' }), {
    EMBEDDING_PROVIDER: 'hash',
    EMBEDDING_MODEL: 'quarry-hash-384',
  });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'openai' }), {
    message: /EMBEDDING_MODEL: required with EMBEDDING_PROVIDER=openai/,
  });
});
