import anyTest, { type TestFn } from 'ava';
import { APIUserAbortError } from 'openai';
import { PermanentProviderError, TransientProviderError } from '../../rag/errors.ts';
import { LocalHashEmbedder } from '../../rag/embed/local-hash.ts';
import { OpenAIEmbedder } from '../../rag/embed/openai.ts';
import { createOpenAIClient } from '../../rag/provider/openai-client.ts';
import { OpenAIStandIn } from '../stubs/openai-server.ts';
import { norm } from './vectors.ts';

interface Context {
  server: OpenAIStandIn;
  baseURL: string;
}

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  const server = new OpenAIStandIn({ dimensions: 384, apiKey: 'sk-test' });
  t.context = { server, baseURL: await server.start() };
});

test.after.always(async (t) => {
  await t.context.server?.stop();
});

// The stand-in's request log and fault queue are shared, so these tests run one at a time.
test.beforeEach((t) => t.context.server.reset());

function embedder(t: { context: Context }, options: Partial<ConstructorParameters<typeof OpenAIEmbedder>[0]> = {}) {
  return new OpenAIEmbedder({
    client: createOpenAIClient({ baseURL: t.context.baseURL, apiKey: 'sk-test' }),
    model: 'text-embedding-3-small',
    dimensions: 384,
    ...options,
  });
}

test.serial('returns the vectors the endpoint computes, in input order', async (t) => {
  const texts = ['granite quarry', 'tea house', 'glacier meltwater'];
  const vectors = await embedder(t).embed(texts);
  const local = new LocalHashEmbedder();
  t.deepEqual(
    vectors,
    texts.map((text) => local.embedOne(text)),
  );
  const [request] = t.context.server.requestsTo('embeddings');
  t.deepEqual(request?.body, { model: 'text-embedding-3-small', input: texts, encoding_format: 'float' });
  t.is(request?.authorization, 'Bearer sk-test');
});

test.serial('sends dimensions only when asked to', async (t) => {
  await embedder(t, { requestDimensions: true }).embed(['x']);
  t.is((t.context.server.requests[0]?.body as { dimensions?: number }).dimensions, 384);
});

test.serial('splits a large input list into requests within the input limit', async (t) => {
  const texts = Array.from({ length: 5000 }, (_, i) => `chunk number ${i}`);
  const vectors = await embedder(t).embed(texts);
  t.is(vectors.length, 5000);
  t.deepEqual(t.context.server.embeddingBatchSizes(), [2048, 2048, 904]);
  t.deepEqual(vectors[4999], new LocalHashEmbedder().embedOne('chunk number 4999'));
});

test.serial('splits requests by the token budget', async (t) => {
  const texts = Array.from({ length: 10 }, () => 'x'.repeat(400)); // 100 estimated tokens each
  await embedder(t, { limits: { maxTokensPerRequest: 350 } }).embed(texts);
  t.deepEqual(t.context.server.embeddingBatchSizes(), [3, 3, 3, 1]);
});

test.serial('cuts an over-long input into pieces and returns one normalised vector for it', async (t) => {
  const long = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
  const vectors = await embedder(t, { limits: { maxTokensPerInput: 100 } }).embed(['short', long]);
  t.is(vectors.length, 2);
  const inputs = (t.context.server.requests[0]?.body as { input: string[] }).input;
  t.true(inputs.length > 3);
  t.is(inputs.slice(1).join(''), long);
  t.true(inputs.every((input) => input.length <= 400));
  t.true(Math.abs(norm(vectors[1]!) - 1) < 1e-9);
});

test.serial('a 429 with Retry-After becomes a transient error carrying the delay', async (t) => {
  t.context.server.failNext([{ status: 429, retryAfter: 1, message: 'Rate limit reached for requests' }]);
  const error = await t.throwsAsync(embedder(t).embed(['x']), { instanceOf: TransientProviderError });
  t.is(error.status, 429);
  t.is(error.retryAfterMs, 1000);
  t.true(error.retryable);
  t.is(error.code, 'provider_unavailable');
  t.is(error.message, `${new URL(t.context.baseURL).host} answered 429: Rate limit reached for requests`);
});

test.serial('a Retry-After date becomes a delay from now', async (t) => {
  t.context.server.failNext([{ status: 503, retryAfter: new Date(Date.now() + 30_000).toUTCString() }]);
  const error = await t.throwsAsync(embedder(t).embed(['x']), { instanceOf: TransientProviderError });
  t.true(error.retryAfterMs! > 25_000 && error.retryAfterMs! <= 30_000, String(error.retryAfterMs));
});

test.serial('a 500 becomes a transient error without a delay, and the next call succeeds', async (t) => {
  t.context.server.failNext([{ status: 500 }]);
  const error = await t.throwsAsync(embedder(t).embed(['x']), { instanceOf: TransientProviderError });
  t.is(error.status, 500);
  t.is(error.retryAfterMs, undefined);
  t.is((await embedder(t).embed(['x'])).length, 1);
  t.is(t.context.server.requests.length, 2);
});

test.serial('a dropped connection becomes a transient error', async (t) => {
  t.context.server.failNext([{ disconnect: true }]);
  const error = await t.throwsAsync(embedder(t).embed(['x']), { instanceOf: TransientProviderError });
  t.is(error.status, undefined);
});

test.serial('a 400 becomes a permanent error with the provider message', async (t) => {
  t.context.server.failNext([{ status: 400, message: 'bad input' }]);
  const error = await t.throwsAsync(embedder(t).embed(['x']), { instanceOf: PermanentProviderError });
  t.is(error.status, 400);
  t.false(error.retryable);
  t.is(error.code, 'provider_rejected');
  t.is(error.message, `${new URL(t.context.baseURL).host} answered 400: bad input`);
});

test.serial('a wrong api key is a permanent error', async (t) => {
  const wrongKey = new OpenAIEmbedder({
    client: createOpenAIClient({ baseURL: t.context.baseURL, apiKey: 'sk-wrong' }),
    model: 'text-embedding-3-small',
    dimensions: 384,
  });
  const error = await t.throwsAsync(wrongKey.embed(['x']), { instanceOf: PermanentProviderError });
  t.is(error.status, 401);
});

test.serial('vectors of another dimension are rejected permanently', async (t) => {
  const error = await t.throwsAsync(embedder(t, { dimensions: 768 }).embed(['x']), {
    instanceOf: PermanentProviderError,
  });
  t.is(
    error.message,
    `${new URL(t.context.baseURL).host} returned 384-dimensional embeddings, but text-embedding-3-small is configured for 768`,
  );
});

test.serial('the SDK default base64 encoding is served too', async (t) => {
  const client = createOpenAIClient({ baseURL: t.context.baseURL, apiKey: 'sk-test' });
  const response = await client.embeddings.create({ model: 'm', input: ['granite quarry'] });
  const expected = new LocalHashEmbedder().embedOne('granite quarry');
  t.deepEqual(response.data[0]?.embedding, Array.from(new Float32Array(expected)));
  t.is((t.context.server.requests[0]?.body as { encoding_format?: string }).encoding_format, 'base64');
});

test.serial('an aborted call stays an abort, not a provider error', async (t) => {
  t.context.server.failNext([{ delayMs: 2000 }]);
  const controller = new AbortController();
  const call = embedder(t).embed(['x'], { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await t.throwsAsync(call, { instanceOf: APIUserAbortError });
});

test.serial('an empty list needs no request', async (t) => {
  t.deepEqual(await embedder(t).embed([]), []);
  t.is(t.context.server.requests.length, 0);
});
