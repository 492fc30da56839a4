// Dense, lexical and hybrid search against the real tables under row-level security, as the
// runtime role: what each mode finds, what the filters keep, and what no caller may ever see
// (another tenant's chunks, another member's private document, a version not yet active).
import anyTest, { type TestFn } from 'ava';
import { sql, type DatabasePool } from 'slonik';
import { withTenant } from '../../db/with-tenant.ts';
import { prepareSearch, runSearch, type SearchRequest, type SearchResult } from '../../search/service.ts';
import { addMember, createTenantWithOwner, createUser } from '../helpers/fixtures.ts';
import { appPool } from '../helpers/stack.ts';
import { embedder, seedSearchWorld, TEXT, type Party, type SearchWorld } from './world.ts';

interface Context {
  pool: DatabasePool;
  world: SearchWorld;
  /** Tenant A's owner, who also owns the private salary review. */
  alice: Party;
  /** A member of tenant A. */
  mia: Party;
  /** Tenant B's owner. */
  bob: Party;
}

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  const pool = await appPool();
  const a = await createTenantWithOwner(pool);
  const b = await createTenantWithOwner(pool);
  const member = await createUser(pool);
  await addMember(pool, { tenantId: a.tenantId, userId: member.userId, role: 'member' });
  const alice = { tenantId: a.tenantId, userId: a.userId };
  const bob = { tenantId: b.tenantId, userId: b.userId };
  const world = await seedSearchWorld(pool, alice, bob);
  t.context = { pool, world, alice, bob, mia: { tenantId: a.tenantId, userId: member.userId } };
});

test.after.always(async (t) => {
  await t.context.pool?.end();
});

type Query = Omit<SearchRequest, 'tenantId' | 'k' | 'mode'> & Partial<Pick<SearchRequest, 'k' | 'mode'>>;

async function run(t: { context: Context }, who: Party, query: Query): Promise<readonly SearchResult[]> {
  const prepared = await prepareSearch(embedder, { tenantId: who.tenantId, k: 10, mode: 'hybrid', ...query });
  return withTenant(t.context.pool, who, async (tx) => (await runSearch(tx, prepared)).results);
}

const ids = (results: readonly SearchResult[]) => results.map((result) => result.hit.chunkId);
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

test('dense search ranks the chunk that answers the question first', async (t) => {
  const results = await run(t, t.context.mia, { query: 'when are apple trees pruned', mode: 'dense' });
  const [first] = results;
  t.is(first?.hit.chunkId, t.context.world.handbook.pruning);
  t.deepEqual(first?.hit.title, 'Orchard handbook');
  t.like(first?.hit, { page: 1, heading: 'Pruning', startOffset: 0, endOffset: TEXT.pruning.length, version: 1 });
  t.is(first?.hit.text, TEXT.pruning);
  t.true(first!.score > 0 && first!.score <= 1);
  t.deepEqual(first?.legs, { dense: { rank: 1, score: first!.score } });
});

test('lexical search matches the words, in web-search syntax', async (t) => {
  const { world, mia } = t.context;
  t.deepEqual(ids(await run(t, mia, { query: '"codling moth"', mode: 'lexical' })), [world.handbook.pests]);
  const either = await run(t, mia, { query: 'irrigation or lighthouse', mode: 'lexical' });
  t.deepEqual(sorted(ids(either)), sorted([world.handbook.irrigation, world.log.lamp]));
  t.deepEqual(ids(await run(t, mia, { query: 'moth -pheromone', mode: 'lexical' })), []);
  t.true(either.every((result) => result.score > 0 && result.legs.lexical?.score === result.score));
});

test('hybrid search fuses both legs and keeps the score and rank of each', async (t) => {
  const [first, ...rest] = await run(t, t.context.mia, { query: 'pheromone traps for the moth' });
  t.is(first?.hit.chunkId, t.context.world.handbook.pests);
  const legs = first!.legs;
  t.is(legs.dense?.rank, 1);
  t.is(legs.lexical?.rank, 1);
  t.true(legs.dense!.score > 0 && legs.lexical!.score > 0);
  // The best of both legs: normalised to 1 in each, weighed half and half.
  t.is(first?.score, 1);
  // Chunks only the dense leg found are still there, ranked below.
  t.true(rest.length > 0);
  t.true(rest.every((result) => result.legs.lexical === undefined && result.legs.dense !== undefined));
  t.true(rest.every((result) => result.score < first!.score));
});

test('only the active version of a document is served', async (t) => {
  const { world, mia } = t.context;
  for (const mode of ['dense', 'lexical', 'hybrid'] as const) {
    const results = await run(t, mia, { query: 'tides recalculated with the new harbour gauge', mode, k: 50 });
    t.false(ids(results).includes(world.tides.v2), mode);
    t.true(
      results.every((result) => result.hit.version === 1),
      mode,
    );
  }
  const [first] = await run(t, mia, { query: 'high tide at the harbour', mode: 'lexical' });
  t.is(first?.hit.chunkId, world.tides.v1);
});

test('filters keep the chunks of matching documents only', async (t) => {
  const { world, mia, pool } = t.context;
  const docsOf = async (filters: Query['filters']) =>
    sorted(
      (await run(t, mia, { query: 'apple tree lighthouse keeper tide', mode: 'dense', k: 50, filters })).map(
        (result) => result.hit.documentId,
      ),
    );
  const all = [world.handbook.documentId, world.log.documentId, world.tides.documentId];
  t.deepEqual(await docsOf({}), sorted(all));
  t.deepEqual(await docsOf({ tags: { any: ['history', 'nothing'] } }), sorted([world.log.documentId]));
  t.deepEqual(await docsOf({ tags: { all: ['farming', 'guide'] } }), sorted([world.handbook.documentId]));
  t.deepEqual(await docsOf({ tags: { all: ['farming', 'history'] } }), []);
  t.deepEqual(await docsOf({ documentIds: [world.tides.documentId] }), sorted([world.tides.documentId]));
  t.deepEqual(await docsOf({ sources: ['upload'] }), sorted([world.log.documentId]));

  await withTenant(pool, mia, (tx) =>
    tx.query(sql.unsafe`UPDATE documents SET created_at = '2020-06-01T00:00:00Z' WHERE id = ${world.log.documentId}`),
  );
  const cut = new Date('2021-01-01T00:00:00Z');
  t.deepEqual(await docsOf({ createdBefore: cut }), sorted([world.log.documentId]));
  t.deepEqual(await docsOf({ createdAfter: cut }), sorted([world.handbook.documentId, world.tides.documentId]));
  // Filters apply to the lexical leg as well.
  const lexical = await run(t, mia, { query: 'keeper', mode: 'lexical', filters: { createdAfter: cut } });
  t.deepEqual(lexical, []);
});

test('a private document is found by its owner and by no other member', async (t) => {
  const { world, alice, mia } = t.context;
  for (const mode of ['dense', 'lexical', 'hybrid'] as const) {
    const mine = await run(t, alice, { query: 'salary review bonus pool', mode });
    t.is(mine[0]?.hit.chunkId, world.salary.chunkId, mode);
    // Or apple trees: so that the search finds something (a guard: an empty result would pass).
    const theirs = await run(t, mia, { query: 'salary review bonus pool or apple trees', mode, k: 50 });
    t.true(theirs.length > 0, mode);
    t.false(ids(theirs).includes(world.salary.chunkId), mode);
  }
});

test('another tenant’s chunks never appear, however closely they match', async (t) => {
  const { world, mia, bob } = t.context;
  for (const mode of ['dense', 'lexical', 'hybrid'] as const) {
    // For the lexical leg, the words both tenants' pruning chunks share, so that tenant A's own
    // chunk is found (an empty result would pass the checks below vacuously).
    const query = mode === 'lexical' ? 'apple trees pruned in late winter' : TEXT.theirs;
    const ours = await run(t, mia, { query, mode, k: 50 });
    t.true(ids(ours).includes(world.handbook.pruning), mode);
    t.false(ids(ours).includes(world.theirs.chunkId), mode);
    t.false(
      ours.some((result) => result.hit.documentId === world.theirs.documentId),
      mode,
    );
    const [first] = await run(t, bob, { query, mode });
    t.is(first?.hit.chunkId, world.theirs.chunkId, mode);
  }
});

test('a search in a context without a tenant finds nothing', async (t) => {
  const { pool, mia } = t.context;
  const prepared = await prepareSearch(embedder, {
    tenantId: mia.tenantId,
    query: 'apple trees',
    k: 10,
    mode: 'hybrid',
  });
  const results = await withTenant(pool, { userId: mia.userId }, async (tx) => (await runSearch(tx, prepared)).results);
  t.deepEqual(results, []);
});

test('collapsed to documents, each document appears once, by its best chunk, in every mode', async (t) => {
  const { world, mia } = t.context;
  // Words of all three handbook chunks, and of the lighthouse log.
  const query = 'apple trees pruned, drip irrigation water, codling moth traps, lighthouse keeper';
  for (const mode of ['dense', 'lexical', 'hybrid'] as const) {
    const chunks = await run(t, mia, { query, mode, k: 10 });
    const handbookChunks = chunks.filter((result) => result.hit.documentId === world.handbook.documentId);
    t.true(handbookChunks.length >= 2, `${mode}: the handbook has several matching chunks`);
    const documents = await run(t, mia, { query, mode, k: 10, collapse: 'document' });
    const documentIds = documents.map((result) => result.hit.documentId);
    t.deepEqual(documentIds, [...new Set(documentIds)], `${mode}: one result per document`);
    t.true(documentIds.includes(world.handbook.documentId) && documentIds.includes(world.log.documentId), mode);
    // The handbook stands for itself by the chunk its own leg ranked best.
    const handbook = documents.find((result) => result.hit.documentId === world.handbook.documentId)!;
    if (mode !== 'hybrid') t.is(handbook.hit.chunkId, handbookChunks[0]!.hit.chunkId, mode);
    const legs = Object.values(handbook.legs);
    t.true(legs.length > 0 && legs.every((leg) => leg.rank >= 1), mode);
  }
  // k counts documents: with k = 1, the best document alone.
  const [only, ...rest] = await run(t, mia, { query, mode: 'hybrid', k: 1, collapse: 'document' });
  t.truthy(only);
  t.deepEqual(rest, []);
});

test('hybrid search fuses by reciprocal rank when asked to', async (t) => {
  const [first] = await run(t, t.context.mia, { query: 'pheromone traps for the moth', fusion: { method: 'rrf' } });
  t.is(first?.hit.chunkId, t.context.world.handbook.pests);
  t.is(first?.score, 2 / 61);
});

test('the dense weight of a convex fusion moves the rank toward that leg', async (t) => {
  const query = 'pheromone traps for the moth';
  const denseOnly = await run(t, t.context.mia, { query, fusion: { denseWeight: 1 } });
  const dense = await run(t, t.context.mia, { query, mode: 'dense' });
  t.deepEqual(
    denseOnly.map((result) => result.hit.chunkId),
    dense.map((result) => result.hit.chunkId),
  );
  const lexicalOnly = await run(t, t.context.mia, { query, fusion: { denseWeight: 0 } });
  const lexical = await run(t, t.context.mia, { query, mode: 'lexical' });
  t.deepEqual(
    lexicalOnly.slice(0, lexical.length).map((result) => result.hit.chunkId),
    lexical.map((result) => result.hit.chunkId),
  );
});
