// POST /v1/search through the real app: the response shape, who sees what (tenants, private
// documents, API keys), and the 400s of bad input.
import anyTest, { type TestFn } from 'ava';
import { call } from '../api/harness.ts';
import { withSearchWorld, type SearchApiContext } from './api-world.ts';
import { TEXT } from './world.ts';

const test = withSearchWorld(anyTest as TestFn<SearchApiContext>);

function searchAs(t: { context: SearchApiContext }, who: { token: string; tenantId?: string }, body: unknown) {
  return call(t.context.api, 'POST', '/v1/search', { token: who.token, tenantId: who.tenantId, body });
}

const chunkIds = (body: { results: { chunkId: string }[] }) => body.results.map((result) => result.chunkId);

test('a hybrid search returns each chunk with its document, location and the score of each leg', async (t) => {
  const { mia, docs } = t.context.world;
  const reply = await searchAs(t, mia, { query: 'pheromone traps for the moth', k: 3 });
  t.is(reply.status, 200);
  t.is(reply.body.mode, 'hybrid');
  t.is(reply.body.collapse, null);
  t.is(reply.body.k, 3);
  t.is(reply.body.results.length, 3);
  const [first] = reply.body.results;
  // Chunks of the handbook were written one after another, two characters apart.
  const pestsStart = TEXT.pruning.length + 2 + TEXT.irrigation.length + 2;
  t.like(first, {
    chunkId: docs.handbook.pests,
    documentId: docs.handbook.documentId,
    title: 'Orchard handbook',
    version: 1,
    text: TEXT.pests,
    location: { page: 3, heading: 'Pests', startOffset: pestsStart, endOffset: pestsStart + TEXT.pests.length },
    score: 1,
    scores: { fused: 1, dense: { rank: 1 }, lexical: { rank: 1 } },
  });
  t.true(first.scores.dense.score > 0 && first.scores.lexical.score > 0);
});

test('dense and lexical modes score with their own leg only', async (t) => {
  const { mia, docs } = t.context.world;
  const dense = await searchAs(t, mia, { query: 'when are apple trees pruned', mode: 'dense' });
  t.is(dense.status, 200);
  t.is(dense.body.results[0].chunkId, docs.handbook.pruning);
  t.like(dense.body.results[0].scores, { fused: null, lexical: null, dense: { rank: 1 } });
  t.is(dense.body.results[0].score, dense.body.results[0].scores.dense.score);

  const lexical = await searchAs(t, mia, { query: 'barometer', mode: 'lexical' });
  t.deepEqual(chunkIds(lexical.body), [docs.log.storm]);
  t.like(lexical.body.results[0].scores, { fused: null, dense: null, lexical: { rank: 1 } });
});

test('a member sees neither another tenant’s chunks nor another member’s private document', async (t) => {
  const { mia, alice, bob, docs } = t.context.world;
  for (const mode of ['dense', 'lexical', 'hybrid']) {
    const theirs = await searchAs(t, mia, { query: TEXT.theirs, mode, k: 50 });
    t.is(theirs.status, 200);
    t.false(chunkIds(theirs.body).includes(docs.theirs.chunkId), mode);
    const salary = await searchAs(t, mia, { query: 'salary review bonus pool', mode, k: 50 });
    t.false(chunkIds(salary.body).includes(docs.salary.chunkId), mode);
    const own = await searchAs(t, alice, { query: 'salary review bonus pool', mode });
    t.is(own.body.results[0]?.chunkId, docs.salary.chunkId, mode);
    const bobs = await searchAs(t, bob, { query: 'apple trees pruned in late winter', mode, k: 50 });
    t.deepEqual(chunkIds(bobs.body), [docs.theirs.chunkId], mode);
  }
});

test('an API key searches its own tenant’s shared documents, never private ones', async (t) => {
  const { apiKey, docs } = t.context.world;
  const found = await searchAs(t, { token: apiKey }, { query: 'keeper', mode: 'lexical', k: 50 });
  t.is(found.status, 200);
  t.deepEqual(chunkIds(found.body).sort(), [docs.log.lamp, docs.log.storm].sort());
  const salary = await searchAs(t, { token: apiKey }, { query: 'salary review bonus pool', k: 50 });
  t.false(chunkIds(salary.body).includes(docs.salary.chunkId));
});

test('another tenant named in x-tenant-id is not found', async (t) => {
  const { mia, bob } = t.context.world;
  const reply = await searchAs(t, { token: mia.token, tenantId: bob.tenantId }, { query: 'apple' });
  t.is(reply.status, 404);
  t.is(reply.body.error.code, 'not_found');
});

test('filters narrow the search to matching documents', async (t) => {
  const { mia, docs } = t.context.world;
  const reply = await searchAs(t, mia, {
    query: 'apple tree lighthouse keeper',
    mode: 'dense',
    k: 50,
    filters: { tags: { any: ['history'] }, sources: ['upload'], documentIds: [docs.log.documentId] },
  });
  t.is(reply.status, 200);
  t.deepEqual(
    [...new Set(reply.body.results.map((result: { documentId: string }) => result.documentId))],
    [docs.log.documentId],
  );
  const none = await searchAs(t, mia, { query: 'apple', filters: { createdAfter: '2999-01-01T00:00:00Z' } });
  t.deepEqual(none.body.results, []);
});

const BAD_REQUESTS: ReadonlyArray<{ title: string; body: unknown; paths: string[] }> = [
  { title: 'a missing query', body: { k: 3 }, paths: ['body.query'] },
  { title: 'a blank query', body: { query: '   ' }, paths: ['body.query'] },
  { title: 'k of 0', body: { query: 'apple', k: 0 }, paths: ['body.k'] },
  { title: 'k of 51', body: { query: 'apple', k: 51 }, paths: ['body.k'] },
  { title: 'a fractional k', body: { query: 'apple', k: 2.5 }, paths: ['body.k'] },
  { title: 'an unknown mode', body: { query: 'apple', mode: 'fuzzy' }, paths: ['body.mode'] },
  { title: 'an unknown collapse', body: { query: 'apple', collapse: 'tenant' }, paths: ['body.collapse'] },
  { title: 'an unknown field', body: { query: 'apple', limit: 3 }, paths: ['body'] },
  { title: 'an unknown filter', body: { query: 'apple', filters: { owner: 'me' } }, paths: ['body.filters'] },
  {
    title: 'a document id that is not a UUID',
    body: { query: 'apple', filters: { documentIds: ['42'] } },
    paths: ['body.filters.documentIds.0'],
  },
  {
    title: 'a bad date',
    body: { query: 'apple', filters: { createdAfter: 'yesterday' } },
    paths: ['body.filters.createdAfter'],
  },
  {
    title: 'an unknown source',
    body: { query: 'apple', filters: { sources: ['fax'] } },
    paths: ['body.filters.sources.0'],
  },
  { title: 'empty tags', body: { query: 'apple', filters: { tags: { any: [] } } }, paths: ['body.filters.tags.any'] },
  { title: 'a body that is an array', body: ['apple'], paths: ['body'] },
];

for (const bad of BAD_REQUESTS) {
  test(`${bad.title} is a 400 naming the field`, async (t) => {
    const reply = await searchAs(t, t.context.world.mia, bad.body);
    t.is(reply.status, 400);
    t.is(reply.body.error.code, 'validation_failed');
    t.deepEqual(
      reply.body.error.details.issues.map((issue: { path: string }) => issue.path),
      bad.paths,
    );
  });
}

test('a body that is not JSON is a 400', async (t) => {
  const { mia } = t.context.world;
  const reply = await call(t.context.api, 'POST', '/v1/search', {
    token: mia.token,
    tenantId: mia.tenantId,
    rawBody: '{',
  });
  t.is(reply.status, 400);
  t.is(reply.body.error.code, 'invalid_json');
});

test('a query made only of stopwords finds nothing lexically, and no error', async (t) => {
  const reply = await searchAs(t, t.context.world.mia, { query: 'the of and', mode: 'lexical' });
  t.is(reply.status, 200);
  t.deepEqual(reply.body.results, []);
});

test('openapi.json documents search and ask with their provider errors', async (t) => {
  const reply = await call(t.context.api, 'GET', '/openapi.json');
  const search = reply.body.paths['/v1/search'].post;
  const ask = reply.body.paths['/v1/ask'].post;
  t.deepEqual(search.requestBody.content['application/json'].schema.required, ['query']);
  t.deepEqual(ask.requestBody.content['application/json'].schema.required, ['question']);
  for (const operation of [search, ask]) {
    t.true(['200', '400', '401', '404', '502', '503'].every((status) => status in operation.responses));
  }
  t.truthy(reply.body.components.schemas.SearchResult);
  t.truthy(reply.body.components.schemas.Citation);
});

test('collapse: "document" answers one result per document and says so', async (t) => {
  const { mia } = t.context.world;
  const query = 'apple trees pruned, drip irrigation water, codling moth traps';
  const chunks = await searchAs(t, mia, { query, k: 10 });
  const reply = await searchAs(t, mia, { query, k: 10, collapse: 'document' });
  t.is(reply.status, 200);
  t.is(reply.body.collapse, 'document');
  const ids = (body: { results: { documentId: string }[] }) => body.results.map((result) => result.documentId);
  t.true(new Set(ids(chunks.body)).size < ids(chunks.body).length, 'without it a document has several chunks');
  t.deepEqual(ids(reply.body), [...new Set(ids(reply.body))]);
  t.true(ids(reply.body).length > 0);
});
