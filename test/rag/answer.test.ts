import anyTest, { type TestFn } from 'ava';
import { NO_CONTEXT_ANSWER, type ContextChunk } from '../../rag/answer/answerer.ts';
import { parseCitations } from '../../rag/answer/citations.ts';
import { ExtractiveAnswerer } from '../../rag/answer/extractive.ts';
import { createAnswerer } from '../../rag/answer/factory.ts';
import { OpenAIChatAnswerer } from '../../rag/answer/openai-chat.ts';
import { SYSTEM_PROMPT } from '../../rag/answer/prompt.ts';
import { PermanentProviderError, TransientProviderError } from '../../rag/errors.ts';
import { createOpenAIClient } from '../../rag/provider/openai-client.ts';
import { DEFAULT_CHAT_REPLY, OpenAIStandIn } from '../stubs/openai-server.ts';

interface Context {
  server: OpenAIStandIn;
  baseURL: string;
  /** The stand-in's next chat reply; an object so that every test sees the one the server reads. */
  chatReply: { text?: string };
}

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  const chatReply: { text?: string } = {};
  const server = new OpenAIStandIn({ chatReply: () => chatReply.text ?? DEFAULT_CHAT_REPLY });
  t.context = { server, baseURL: await server.start(), chatReply };
});

test.after.always(async (t) => {
  await t.context.server?.stop();
});

test.beforeEach((t) => {
  t.context.server.reset();
  delete t.context.chatReply.text;
});

const lighthouse: ContextChunk = {
  n: 1,
  documentId: 'doc-1',
  title: 'Lighthouse log',
  location: { page: 2 },
  text:
    'Harbour lighthouse maintenance log.\n\nThe lighthouse keeper polishes the Fresnel lens every Tuesday morning. ' +
    'The foghorn compressor was serviced in March after it failed during a storm.',
};
const bakery: ContextChunk = {
  n: 2,
  documentId: 'doc-2',
  title: 'Sourdough Guide',
  location: { heading: 'Baking' },
  text: '## Baking\n\nBake the loaf at 230 degrees for forty minutes with steam.',
};

const chat = (t: { context: Context }) =>
  new OpenAIChatAnswerer({
    client: createOpenAIClient({ baseURL: t.context.baseURL, apiKey: 'sk-test' }),
    model: 'gpt-4o-mini',
  });

test('the extractive answer quotes the sentences sharing most words with the question', async (t) => {
  const answer = await new ExtractiveAnswerer().answer({
    question: 'How often is the lighthouse lens polished?',
    chunks: [lighthouse, bakery],
  });
  t.deepEqual(answer, {
    text: 'The lighthouse keeper polishes the Fresnel lens every Tuesday morning. [1] Harbour lighthouse maintenance log. [1]',
    citations: [1],
    model: 'quarry-extractive',
    usage: { promptTokens: 0, completionTokens: 0 },
    extractive: true,
  });
});

test('the extractive answer cites every chunk it quotes', async (t) => {
  const answer = await new ExtractiveAnswerer().answer({
    question: 'When is the lens polished, and how long does the loaf bake?',
    chunks: [bakery, lighthouse],
  });
  t.is(
    answer.text,
    'Bake the loaf at 230 degrees for forty minutes with steam. [2] ' +
      'The lighthouse keeper polishes the Fresnel lens every Tuesday morning. [1]',
  );
  t.deepEqual(answer.citations, [2, 1]);
});

test('the extractive answer quotes a sentence repeated by overlapping chunks once', async (t) => {
  const overlap = {
    ...lighthouse,
    n: 3,
    text: 'The lighthouse keeper polishes the Fresnel lens every Tuesday morning.',
  };
  const answer = await new ExtractiveAnswerer({ maxSentences: 2 }).answer({
    question: 'Who polishes the lens?',
    chunks: [overlap, lighthouse],
  });
  t.is(answer.text, 'The lighthouse keeper polishes the Fresnel lens every Tuesday morning. [3]');
  t.deepEqual(answer.citations, [3]);
});

test('without chunks, the extractive answer says there is no relevant context', async (t) => {
  const answer = await new ExtractiveAnswerer().answer({ question: 'What is the capital of Peru?', chunks: [] });
  t.deepEqual(answer, {
    text: NO_CONTEXT_ANSWER,
    citations: [],
    model: 'quarry-extractive',
    usage: { promptTokens: 0, completionTokens: 0 },
    extractive: true,
  });
});

test('chunks sharing no word with the question give the no-context answer', async (t) => {
  const answer = await new ExtractiveAnswerer().answer({ question: 'What is the capital of Peru?', chunks: [bakery] });
  t.is(answer.text, NO_CONTEXT_ANSWER);
  t.deepEqual(answer.citations, []);
});

test('parses single, adjacent and listed citations, keeping only known numbers', (t) => {
  t.deepEqual(parseCitations('A [2]. B [1][7]. C [3, 2]. D [x] [ 4 ]', [1, 2, 3]), [2, 1, 3]);
  t.deepEqual(parseCitations('no citations here', [1]), []);
});

test.serial('the chat answerer sends the numbered context and history, and parses the citations used', async (t) => {
  const reply = 'The keeper polishes the lens on Tuesdays [1]. Bread bakes at 230 degrees [2][9].';
  t.context.chatReply.text = reply;
  const answer = await chat(t).answer({
    question: 'When is the lens polished?',
    chunks: [lighthouse, bakery],
    history: [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi, ask me about your documents.' },
    ],
  });
  t.is(answer.text, reply);
  t.deepEqual(answer.citations, [1, 2]);
  t.is(answer.model, 'gpt-4o-mini');
  t.false(answer.extractive);
  t.true(answer.usage.promptTokens > 0);
  t.is(answer.usage.completionTokens, Math.ceil(reply.length / 4));

  const [request] = t.context.server.requestsTo('chat');
  const { messages } = request?.body as { messages: Array<{ role: string; content: string }> };
  t.deepEqual(
    messages.map((message) => message.role),
    ['system', 'user', 'assistant', 'user'],
  );
  t.is(messages[0]?.content, SYSTEM_PROMPT);
  t.is(
    messages[3]?.content,
    'Context:\n\n' +
      `[1] Lighthouse log (page 2)\n${lighthouse.text}\n\n` +
      `[2] Sourdough Guide (section "Baking")\n${bakery.text}\n\n` +
      'Question: When is the lens polished?',
  );
});

test.serial('the stand-in chat reply cites the first passage', async (t) => {
  const answer = await chat(t).answer({ question: 'When is the lens polished?', chunks: [lighthouse] });
  t.is(answer.text, DEFAULT_CHAT_REPLY);
  t.deepEqual(answer.citations, [1]);
});

test.serial('the chat answerer asks nothing of the model without context', async (t) => {
  const answer = await chat(t).answer({ question: 'Anything?', chunks: [] });
  t.is(answer.text, NO_CONTEXT_ANSWER);
  t.false(answer.extractive);
  t.is(t.context.server.requests.length, 0);
});

test.serial('chat failures are classified like embedding failures', async (t) => {
  t.context.server.failNext([
    { status: 429, retryAfter: 2 },
    { status: 422, message: 'context too long' },
  ]);
  const transient = await t.throwsAsync(chat(t).answer({ question: 'q', chunks: [lighthouse] }), {
    instanceOf: TransientProviderError,
  });
  t.is(transient.retryAfterMs, 2000);
  const permanent = await t.throwsAsync(chat(t).answer({ question: 'q', chunks: [lighthouse] }), {
    instanceOf: PermanentProviderError,
  });
  t.is(permanent.message, `${new URL(t.context.baseURL).host} answered 422: context too long`);
});

test('the factory answers extractively unless an endpoint is configured', (t) => {
  t.true(
    createAnswerer({ CHAT_MODEL: 'gpt-4o-mini', OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined }) instanceof
      ExtractiveAnswerer,
  );
  const remote = createAnswerer({
    CHAT_MODEL: 'llama3',
    OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
    OPENAI_API_KEY: undefined,
  });
  t.true(remote instanceof OpenAIChatAnswerer);
  t.is(remote.model, 'llama3');
});
