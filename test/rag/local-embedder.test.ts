import test from 'ava';
import { createEmbedder } from '../../rag/embed/factory.ts';
import { LocalHashEmbedder } from '../../rag/embed/local-hash.ts';
import { OpenAIEmbedder } from '../../rag/embed/openai.ts';
import { dot, norm } from './vectors.ts';

const embedder = new LocalHashEmbedder();

test('defaults to the quarry-hash-384 model with 384 dimensions', async (t) => {
  t.is(embedder.model, 'quarry-hash-384');
  t.is(embedder.dimensions, 384);
  const [vector] = await embedder.embed(['granite quarry']);
  t.is(vector?.length, 384);
});

test('is deterministic across calls and instances', async (t) => {
  const texts = ['The lighthouse keeper polishes the lens.', 'Meltwater discharge doubled.'];
  t.deepEqual(await embedder.embed(texts), await new LocalHashEmbedder().embed(texts));
});

test('returns unit-length vectors, even for text without words', async (t) => {
  const vectors = await embedder.embed(['Sourdough starter needs rye flour.', '---', '', 'the']);
  for (const vector of vectors) t.true(Math.abs(norm(vector) - 1) < 1e-9);
});

test('scores texts sharing words well above unrelated texts', async (t) => {
  const [query, similar, unrelated] = await embedder.embed([
    'How often is the lighthouse lens polished?',
    'The lighthouse keeper polishes the Fresnel lens every Tuesday.',
    'Bake the sourdough loaf at 230 degrees for forty minutes.',
  ]);
  const related = dot(query!, similar!);
  const other = dot(query!, unrelated!);
  t.true(related > 0.4, `related similarity ${related}`);
  t.true(Math.abs(other) < 0.1, `unrelated similarity ${other}`);
  t.true(related > other + 0.4);
});

test('matches inflected forms of a word', async (t) => {
  const [query, inflected, unrelated] = await embedder.embed(['polishing lenses', 'polished lens', 'baking bread']);
  t.true(dot(query!, inflected!) > 0.4);
  t.true(dot(query!, inflected!) > dot(query!, unrelated!) + 0.3);
});

test('honours a configured dimension', async (t) => {
  const [vector] = await new LocalHashEmbedder({ dimensions: 64 }).embed(['granite']);
  t.is(vector?.length, 64);
});

test('stops when its signal is aborted', async (t) => {
  const controller = new AbortController();
  controller.abort(new Error('cancelled'));
  await t.throwsAsync(embedder.embed(['x'], { signal: controller.signal }), { message: 'cancelled' });
});

test('the factory picks the embedder the configuration names', (t) => {
  const base = {
    EMBEDDING_MODEL: 'quarry-hash-384',
    EMBEDDING_DIMENSIONS: 384,
    EMBEDDING_MODEL_DIR: '/nonexistent',
    EMBEDDING_THREADS: 1,
    EMBEDDING_BATCH_TOKENS: 256,
    OPENAI_BASE_URL: undefined,
    OPENAI_API_KEY: undefined,
  };
  const local = createEmbedder({ ...base, EMBEDDING_PROVIDER: 'hash' });
  t.true(local instanceof LocalHashEmbedder);
  const remote = createEmbedder({
    ...base,
    EMBEDDING_PROVIDER: 'openai',
    EMBEDDING_MODEL: 'nomic-embed-text',
    EMBEDDING_DIMENSIONS: 768,
    OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
  });
  t.true(remote instanceof OpenAIEmbedder);
  t.is(remote.model, 'nomic-embed-text');
  t.is(remote.dimensions, 768);
});

test('the factory refuses the OpenAI API without a key', (t) => {
  const error = t.throws(() =>
    createEmbedder({
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: 1536,
      EMBEDDING_MODEL_DIR: '/nonexistent',
      EMBEDDING_THREADS: 1,
      EMBEDDING_BATCH_TOKENS: 256,
      OPENAI_BASE_URL: undefined,
      OPENAI_API_KEY: undefined,
    }),
  );
  t.is(error?.message, 'OPENAI_API_KEY is required to use the OpenAI API');
  t.is((error as { code?: string } | undefined)?.code, 'provider_misconfigured');
});

test('ranks the passage that answers a question first among unrelated passages', async (t) => {
  const passages = [
    'The lighthouse keeper polishes the Fresnel lens every Tuesday morning.',
    'Feed the sourdough starter with rye flour and water every twelve hours.',
    'Every employee receives twenty-eight days of paid vacation each year.',
    'Meltwater discharge from the glacier doubled compared with the previous decade.',
    'The analytical engine budget needs another 300 pounds for brass gears.',
  ];
  const questions = [
    'When is the lighthouse lens polished?',
    'How often should I feed my starter?',
    'How many vacation days do employees get?',
    'What happened to glacier meltwater?',
    'How much money does the engine budget need?',
  ];
  const passageVectors = await embedder.embed(passages);
  const questionVectors = await embedder.embed(questions);
  const best = questionVectors.map((question) => {
    const scores = passageVectors.map((passage) => dot(question, passage));
    return scores.indexOf(Math.max(...scores));
  });
  t.deepEqual(best, [0, 1, 2, 3, 4]);
});
