// POST /v1/ask with an OpenAI-compatible endpoint configured (the stand-in server, through the
// real openai SDK): the model's answer from the retrieved chunks, its model and token usage
// recorded on the conversation, the history sent with later questions, and provider failures
// answered 503 (with Retry-After) or 502 with nothing recorded. Serial: faults are queued on
// the one stand-in server.
import anyTest, { type TestFn } from 'ava';
import { call } from '../api/harness.ts';
import { DEFAULT_CHAT_REPLY, OpenAIStandIn } from '../stubs/openai-server.ts';
import { withSearchWorld, type SearchApiContext } from './api-world.ts';
import { TEXT } from './world.ts';

const API_KEY = 'sk-stand-in';
const MODEL = 'stand-in-chat';
const server = new OpenAIStandIn({ apiKey: API_KEY });

const test = withSearchWorld(anyTest as TestFn<SearchApiContext>, async () => ({
  OPENAI_BASE_URL: await server.start(),
  OPENAI_API_KEY: API_KEY,
  CHAT_MODEL: MODEL,
}));

test.after.always(async () => {
  await server.stop();
});

test.beforeEach(() => {
  server.reset();
});

function ask(t: { context: SearchApiContext }, body: Record<string, unknown>) {
  const { mia } = t.context.world;
  return call(t.context.api, 'POST', '/v1/ask', { token: mia.token, tenantId: mia.tenantId, body });
}

async function conversation(t: { context: SearchApiContext }) {
  const { mia } = t.context.world;
  const created = await call(t.context.api, 'POST', '/v1/conversations', {
    token: mia.token,
    tenantId: mia.tenantId,
    body: {},
  });
  const id: string = created.body.id;
  return {
    id,
    read: async () =>
      (await call(t.context.api, 'GET', `/v1/conversations/${id}`, { token: mia.token, tenantId: mia.tenantId })).body,
  };
}

/** The messages of the chat requests the stand-in received, in order. */
function chatMessages(): { role: string; content: string }[][] {
  return server
    .requestsTo('chat')
    .map((request) => (request.body as { messages: { role: string; content: string }[] }).messages);
}

test.serial('the model answers from the retrieved chunks; model and usage are recorded', async (t) => {
  const thread = await conversation(t);
  const reply = await ask(t, { question: 'When are apple trees pruned?', conversationId: thread.id });
  t.is(reply.status, 200);
  const { body } = reply;
  t.like(body, { answer: DEFAULT_CHAT_REPLY, extractive: false, model: MODEL, conversationId: thread.id });
  t.true(body.usage.promptTokens > 0 && body.usage.completionTokens > 0);
  t.deepEqual(body.citations, [
    {
      n: 1,
      documentId: body.context[0].documentId,
      chunkId: body.context[0].chunkId,
      title: body.context[0].title,
      location: body.context[0].location,
      mail: null,
    },
  ]);
  t.is(body.context[0].chunkId, t.context.world.docs.handbook.pruning);

  const [messages] = chatMessages();
  t.is(server.requestsTo('chat')[0]?.authorization, `Bearer ${API_KEY}`);
  const prompt = messages!.at(-1)!.content;
  t.true(prompt.includes(`[1] Orchard handbook (page 1, section "Pruning")\n${TEXT.pruning}`));
  t.true(prompt.endsWith('Question: When are apple trees pruned?'));

  const stored = await thread.read();
  t.like(stored, {
    messageCount: 2,
    lastModel: MODEL,
    promptTokens: body.usage.promptTokens,
    completionTokens: body.usage.completionTokens,
  });
  t.like(stored.messages[1], {
    id: body.messageId,
    role: 'assistant',
    content: DEFAULT_CHAT_REPLY,
    model: MODEL,
    extractive: false,
    promptTokens: body.usage.promptTokens,
    completionTokens: body.usage.completionTokens,
  });
  t.deepEqual(stored.messages[1].citations, body.citations);
});

test.serial('a later question carries the conversation so far', async (t) => {
  const thread = await conversation(t);
  const first = await ask(t, { question: 'When are apple trees pruned?', conversationId: thread.id });
  await ask(t, { question: 'And how are they watered?', conversationId: thread.id });
  const [, second] = chatMessages();
  t.deepEqual(
    second!.slice(1, 3).map(({ role, content }) => ({ role, content })),
    [
      { role: 'user', content: 'When are apple trees pruned?' },
      { role: 'assistant', content: first.body.answer },
    ],
  );
  const stored = await thread.read();
  t.is(stored.messageCount, 4);
  t.is(stored.promptTokens, stored.messages[1].promptTokens + stored.messages[3].promptTokens);
});

test.serial('a rate-limited provider is a 503 with its Retry-After, and nothing is recorded', async (t) => {
  const thread = await conversation(t);
  server.failNext([{ status: 429, retryAfter: 7, endpoint: 'chat' }]);
  const reply = await ask(t, { question: 'When are apple trees pruned?', conversationId: thread.id });
  t.is(reply.status, 503);
  t.is(reply.headers.get('retry-after'), '7');
  t.like(reply.body.error, { code: 'provider_unavailable', details: { retryAfterSeconds: 7 } });
  t.like(await thread.read(), { messageCount: 0, messages: [] });
});

test.serial('a provider failing without Retry-After is a 503 with a default wait', async (t) => {
  server.failNext([{ status: 500, endpoint: 'chat' }]);
  const reply = await ask(t, { question: 'When are apple trees pruned?' });
  t.is(reply.status, 503);
  t.is(reply.headers.get('retry-after'), '5');
});

test.serial('a request the provider rejects is a 502', async (t) => {
  server.failNext([{ status: 400, message: 'model not found', endpoint: 'chat' }]);
  const reply = await ask(t, { question: 'When are apple trees pruned?' });
  t.is(reply.status, 502);
  t.is(reply.body.error.code, 'provider_rejected');
  t.false(JSON.stringify(reply.body).includes('model not found'));
});

test.serial('a question nothing matches is answered without calling the model', async (t) => {
  const reply = await ask(t, { question: 'zyxwv qutrsp', filters: { tags: { any: ['no-such-tag'] } } });
  t.is(reply.status, 200);
  t.like(reply.body, { extractive: false, citations: [], context: [] });
  t.is(server.requestsTo('chat').length, 0);
});

test.serial(
  'of two questions answered at once in a conversation, the later answer is refused with a 409',
  async (t) => {
    const thread = await conversation(t);
    // Both wait at the model, so both were asked of the same, empty conversation.
    server.failNext([
      { delayMs: 1000, endpoint: 'chat' },
      { delayMs: 1000, endpoint: 'chat' },
    ]);
    const replies = await Promise.all([
      ask(t, { question: 'When are apple trees pruned?', conversationId: thread.id }),
      ask(t, { question: 'How are they watered?', conversationId: thread.id }),
    ]);
    t.deepEqual(replies.map((reply) => reply.status).sort(), [200, 409]);
    const answered = replies.find((reply) => reply.status === 200)!;
    const refused = replies.find((reply) => reply.status === 409)!;
    t.is(refused.body.error.code, 'conversation_changed');
    const stored = await thread.read();
    t.is(stored.messageCount, 2);
    t.is(stored.messages[1].id, answered.body.messageId);
  },
);
