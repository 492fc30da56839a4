// POST /v1/ask with the offline default (extractive answers) and /v1/conversations: citations
// that map to real chunks, turns appended with their parent and context, conversations
// private to their user, and bad input answered 400.
import anyTest, { type TestFn } from 'ava';
import { call } from '../api/harness.ts';
import { withSearchWorld, type SearchApiContext } from './api-world.ts';

const test = withSearchWorld(anyTest as TestFn<SearchApiContext>);

type Who = { token: string; tenantId?: string };

function as(t: { context: SearchApiContext }, who: Who, method: string, path: string, body?: unknown) {
  return call(t.context.api, method, path, { token: who.token, tenantId: who.tenantId, body });
}

async function newConversation(t: { context: SearchApiContext }, who: Who, title?: string): Promise<string> {
  const created = await as(t, who, 'POST', '/v1/conversations', title === undefined ? {} : { title });
  if (created.status !== 201) throw new Error(`create conversation failed: ${JSON.stringify(created.body)}`);
  return created.body.id;
}

test('an extractive answer cites [n] chunks that map to real chunks of the tenant', async (t) => {
  const { mia, docs } = t.context.world;
  const reply = await as(t, mia, 'POST', '/v1/ask', { question: 'When are apple trees pruned?' });
  t.is(reply.status, 200);
  const { answer, citations, context } = reply.body;
  t.like(reply.body, {
    extractive: true,
    model: 'quarry-extractive',
    usage: { promptTokens: 0, completionTokens: 0 },
    conversationId: null,
    messageId: null,
  });
  t.regex(answer, /Apple trees are pruned in late winter.*\[\d+\]/);
  t.true(citations.length > 0);
  for (const citation of citations) {
    t.true(answer.includes(`[${citation.n}]`));
    const source = context[citation.n - 1];
    t.like(citation, {
      n: source.n,
      chunkId: source.chunkId,
      documentId: source.documentId,
      title: source.title,
      location: source.location,
    });
  }
  t.like(citations[0], {
    chunkId: docs.handbook.pruning,
    documentId: docs.handbook.documentId,
    title: 'Orchard handbook',
    location: { page: 1, heading: 'Pruning', startOffset: 0 },
  });
  t.deepEqual(
    context.map((source: { n: number }) => source.n),
    context.map((_: unknown, i: number) => i + 1),
  );
  t.true(context.length <= 5);
});

test('asking within a conversation appends the question and the answer, chained by parent', async (t) => {
  const { mia } = t.context.world;
  const conversationId = await newConversation(t, mia, 'Orchard questions');
  const first = await as(t, mia, 'POST', '/v1/ask', { question: 'When are apple trees pruned?', conversationId });
  const second = await as(t, mia, 'POST', '/v1/ask', {
    question: 'How does drip irrigation save water?',
    conversationId,
    k: 2,
  });
  t.is(first.status, 200);
  t.is(second.status, 200);
  t.is(second.body.conversationId, conversationId);

  const detail = await as(t, mia, 'GET', `/v1/conversations/${conversationId}`);
  t.is(detail.status, 200);
  t.like(detail.body, {
    id: conversationId,
    title: 'Orchard questions',
    messageCount: 4,
    lastModel: 'quarry-extractive',
  });
  const messages = detail.body.messages;
  t.deepEqual(
    messages.map((m: { seq: number; role: string }) => [m.seq, m.role]),
    [
      [1, 'user'],
      [2, 'assistant'],
      [3, 'user'],
      [4, 'assistant'],
    ],
  );
  t.deepEqual(
    messages.map((m: { parentId: string | null }) => m.parentId),
    [null, messages[0].id, messages[1].id, messages[2].id],
  );
  t.is(messages[2].content, 'How does drip irrigation save water?');
  t.is(messages[3].id, second.body.messageId);
  t.is(messages[3].content, second.body.answer);
  t.like(messages[3], { model: 'quarry-extractive', extractive: true, promptTokens: 0, completionTokens: 0 });
  t.deepEqual(messages[3].citations, second.body.citations);
  t.deepEqual(
    messages[3].context,
    second.body.context.map((source: object) => ({ ...source })),
  );
  t.is(messages[3].context.length, 2);
  t.true(messages[3].context.every((source: { version: number }) => source.version === 1));
  t.like(messages[0], { context: [], citations: [], model: null, extractive: null });
});

test('answers never draw on another tenant’s chunks or another member’s private document', async (t) => {
  const { mia, alice, docs } = t.context.world;
  const theirs = await as(t, mia, 'POST', '/v1/ask', {
    question: 'What is the secret method with golden shears?',
    k: 20,
  });
  const salary = await as(t, mia, 'POST', '/v1/ask', { question: 'How large is the salary bonus pool?', k: 20 });
  for (const reply of [theirs, salary]) {
    t.is(reply.status, 200);
    const documents = reply.body.context.map((source: { documentId: string }) => source.documentId);
    t.false(documents.includes(docs.theirs.documentId));
    t.false(documents.includes(docs.salary.documentId));
  }
  const own = await as(t, alice, 'POST', '/v1/ask', { question: 'How large is the salary bonus pool?' });
  t.is(own.body.citations[0]?.documentId, docs.salary.documentId);
});

test('another user’s conversation is not found, whoever asks', async (t) => {
  const { alice, mia, bob, apiKey } = t.context.world;
  const conversationId = await newConversation(t, alice);
  const path = `/v1/conversations/${conversationId}`;
  const bobInB = { token: bob.token, tenantId: bob.tenantId };
  for (const who of [mia, bobInB]) {
    t.is((await as(t, who, 'GET', path)).status, 404);
    t.is((await as(t, who, 'DELETE', path)).status, 404);
    const ask = await as(t, who, 'POST', '/v1/ask', { question: 'apple trees?', conversationId });
    t.is(ask.status, 404);
    t.is(ask.body.error.code, 'not_found');
  }
  const byKey = await as(t, { token: apiKey }, 'POST', '/v1/ask', { question: 'apple trees?', conversationId });
  t.is(byKey.status, 404);
  // Alice, whose conversation it is, in another tenant's context does not see it either.
  const elsewhere = await as(t, { token: alice.token, tenantId: bob.tenantId }, 'GET', path);
  t.is(elsewhere.status, 404);
  const detail = await as(t, alice, 'GET', path);
  t.like(detail.body, { messageCount: 0, messages: [] });
});

test('conversations are listed newest first, a page at a time, the caller’s own only', async (t) => {
  const { bob } = t.context.world;
  const bobInB = { token: bob.token, tenantId: bob.tenantId };
  const older = await newConversation(t, bobInB, 'older');
  const newer = await newConversation(t, bobInB, 'newer');
  const first = await as(t, bobInB, 'GET', '/v1/conversations?limit=1');
  t.is(first.status, 200);
  t.deepEqual(
    first.body.conversations.map((c: { id: string }) => c.id),
    [newer],
  );
  const second = await as(t, bobInB, 'GET', `/v1/conversations?limit=1&cursor=${first.body.nextCursor}`);
  t.deepEqual(
    second.body.conversations.map((c: { id: string }) => c.id),
    [older],
  );
  const mine = await as(t, t.context.world.mia, 'GET', '/v1/conversations?limit=100');
  t.false(mine.body.conversations.some((c: { id: string }) => c.id === older || c.id === newer));
});

test('deleting a conversation removes it with its messages', async (t) => {
  const { mia } = t.context.world;
  const conversationId = await newConversation(t, mia);
  await as(t, mia, 'POST', '/v1/ask', { question: 'What did the keeper log?', conversationId });
  t.is((await as(t, mia, 'DELETE', `/v1/conversations/${conversationId}`)).status, 204);
  t.is((await as(t, mia, 'GET', `/v1/conversations/${conversationId}`)).status, 404);
  t.is((await as(t, mia, 'DELETE', `/v1/conversations/${conversationId}`)).status, 404);
});

test('conversations need a signed-in user, not an API key', async (t) => {
  const reply = await as(t, { token: t.context.world.apiKey }, 'GET', '/v1/conversations');
  t.is(reply.status, 403);
  t.is(reply.body.error.code, 'user_required');
});

const BAD_ASKS: ReadonlyArray<{ title: string; body: unknown; paths: string[] }> = [
  { title: 'a missing question', body: {}, paths: ['body.question'] },
  { title: 'a question too long', body: { question: 'x'.repeat(2001) }, paths: ['body.question'] },
  { title: 'k of 21', body: { question: 'apple', k: 21 }, paths: ['body.k'] },
  {
    title: 'a conversation id that is not a UUID',
    body: { question: 'apple', conversationId: '7' },
    paths: ['body.conversationId'],
  },
  { title: 'a bad filter', body: { question: 'apple', filters: { tags: 'farming' } }, paths: ['body.filters.tags'] },
];

for (const bad of BAD_ASKS) {
  test(`asking with ${bad.title} is a 400 naming the field`, async (t) => {
    const reply = await as(t, t.context.world.mia, 'POST', '/v1/ask', bad.body);
    t.is(reply.status, 400);
    t.deepEqual(
      reply.body.error.details.issues.map((issue: { path: string }) => issue.path),
      bad.paths,
    );
  });
}

test('a conversation title that is blank is a 400', async (t) => {
  const reply = await as(t, t.context.world.mia, 'POST', '/v1/conversations', { title: ' ' });
  t.is(reply.status, 400);
  t.deepEqual(
    reply.body.error.details.issues.map((issue: { path: string }) => issue.path),
    ['body.title'],
  );
});

test('a conversation id in the path that is not a UUID is a 404', async (t) => {
  const reply = await as(t, t.context.world.mia, 'GET', '/v1/conversations/not-a-uuid');
  t.is(reply.status, 404);
});
