// The BM25 lexical leg (migrations/10_bm25.sql, db/queries/search/lexical.ts) against the real
// tables under row-level security, as the runtime role:
//   - its scores are BM25's, computed here independently from the chunks' own tsv (every term's
//     tf, every chunk's length, N and avgdl over the chunks the searcher can see);
//   - a question whose words are spread over a chunk is found (OR semantics), and ranked by
//     how rare and how frequent its words are;
//   - the statistics follow activation, re-ingestion and deletion, and a private document
//     counts toward its owner's statistics alone;
//   - k1 and b change the rank as BM25 says; phrases and exclusions constrain it.
import anyTest, { type TestFn } from 'ava';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { startVersion } from '../../db/queries/documents.ts';
import { BM25_DEFAULTS, lexicalSearch, parseQuery, type Bm25Parameters } from '../../db/queries/search/lexical.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { LocalHashEmbedder } from '../../rag/embed/local-hash.ts';
import { activate, seedDocument, writeEmbeddedChunks } from '../helpers/corpus.ts';
import { addMember, createTenantWithOwner, createUser } from '../helpers/fixtures.ts';
import { appPool } from '../helpers/stack.ts';

const embedder = new LocalHashEmbedder();

interface Party {
  readonly tenantId: string;
  readonly userId: string;
}

interface Context {
  pool: DatabasePool;
}

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  t.context = { pool: await appPool() };
});

test.after.always(async (t) => {
  await t.context.pool?.end();
});

/** A tenant of its own per test, so that statistics are the test's alone. */
async function freshTenant(pool: DatabasePool): Promise<{ owner: Party; member: Party }> {
  const owner = await createTenantWithOwner(pool);
  const user = await createUser(pool);
  await addMember(pool, { tenantId: owner.tenantId, userId: user.userId, role: 'member' });
  return { owner, member: { tenantId: owner.tenantId, userId: user.userId } };
}

async function seed(
  pool: DatabasePool,
  who: Party,
  texts: readonly string[],
  options: { visibility?: 'tenant' | 'private'; title?: string } = {},
) {
  return withTenant(pool, who, (tx) =>
    seedDocument(tx, embedder, who.tenantId, {
      title: options.title ?? 'Field notes',
      ownerUserId: who.userId,
      visibility: options.visibility,
      chunks: texts.map((content) => ({ content })),
    }),
  );
}

function lexical(
  pool: DatabasePool,
  who: Party,
  text: string,
  options: { k?: number; bm25?: Partial<Bm25Parameters> } = {},
) {
  return withTenant(pool, who, (tx) =>
    lexicalSearch(tx, { tenantId: who.tenantId, text, k: options.k ?? 10, bm25: options.bm25 }),
  );
}

/** BM25 computed from the chunks' tsv as `who` sees them, with nothing of lexical_postings. */
async function referenceBm25(
  pool: DatabasePool,
  who: Party,
  query: string,
  parameters: Bm25Parameters = BM25_DEFAULTS,
) {
  return withTenant(pool, who, async (tx) => {
    const chunks = await tx.any(sql.type(
      z.object({ id: z.uuid(), config: z.string(), terms: z.array(z.object({ term: z.string(), tf: z.number() })) }),
    )`
      SELECT c.id, c.ts_config AS config,
             coalesce((SELECT json_agg(json_build_object('term', u.lexeme, 'tf', cardinality(u.positions)))
                       FROM unnest(c.tsv) AS u), '[]'::json) AS terms
      FROM chunks c JOIN documents d ON d.id = c.document_id AND d.active_version = c.version
      WHERE c.tenant_id = ${who.tenantId}
    `);
    const queryTerms = await tx.any(sql.type(z.object({ config: z.string(), term: z.string(), qtf: z.number() }))`
      SELECT 'english' AS config, lexeme AS term, cardinality(positions) AS qtf
      FROM unnest(to_tsvector('english', app_search_text(${query})))
      UNION ALL
      SELECT 'simple', lexeme, cardinality(positions) FROM unnest(to_tsvector('simple', app_search_text(${query})))
    `);
    const counted = chunks.filter((chunk) => chunk.terms.length > 0);
    const length = (chunk: (typeof chunks)[number]) => chunk.terms.reduce((sum, { tf }) => sum + tf, 0);
    const n = counted.length;
    const avgdl = counted.reduce((sum, chunk) => sum + length(chunk), 0) / Math.max(n, 1);
    const { k1, b } = parameters;
    const scores = new Map<string, number>();
    for (const { config, term, qtf } of queryTerms) {
      const holders = counted.filter((chunk) => chunk.config === config && chunk.terms.some((t) => t.term === term));
      const idf = Math.log(1 + (n - holders.length + 0.5) / (holders.length + 0.5));
      for (const chunk of holders) {
        const tf = chunk.terms.find((t) => t.term === term)!.tf;
        const score = (qtf * idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length(chunk)) / avgdl));
        scores.set(chunk.id, (scores.get(chunk.id) ?? 0) + score);
      }
    }
    return [...scores].sort(([ia, a], [ib, b2]) => b2 - a || (ia < ib ? -1 : 1));
  });
}

function assertSameRanking(
  t: { deepEqual: (a: unknown, b: unknown, m?: string) => void; true: (v: boolean, m?: string) => void },
  actual: readonly { chunkId: string; score: number }[],
  expected: readonly [string, number][],
  k: number,
) {
  const top = expected.slice(0, k);
  t.deepEqual(
    actual.map((hit) => hit.chunkId),
    top.map(([id]) => id),
    'the same chunks in the same order',
  );
  for (const [index, hit] of actual.entries()) {
    t.true(Math.abs(hit.score - top[index]![1]) < 1e-9, `score ${hit.score} against ${top[index]![1]}`);
  }
}

const CORPUS = [
  'Granite is an igneous rock that cools slowly deep below the surface, so its crystals grow large.',
  'The quarry cut granite blocks for the harbour wall; each block was split along its natural grain.',
  'Basalt cools quickly at the surface and its crystals stay small.',
  'Limestone forms from the shells of sea creatures and dissolves in acidic rain.',
  'Marble is limestone changed by heat and pressure; sculptors prize it for its even grain.',
  'Quarry workers in the granite quarry of the valley worked twelve hour shifts, cutting granite by hand.',
  'The harbour master logged every ship and every storm.',
];

test('scores are BM25 computed from the chunks themselves, for several queries and parameters', async (t) => {
  const { owner } = await freshTenant(t.context.pool);
  await seed(t.context.pool, owner, CORPUS.slice(0, 4));
  await seed(t.context.pool, owner, CORPUS.slice(4));
  const queries = [
    'why do granite crystals grow large?',
    'granite quarry',
    'how does limestone change into marble under heat',
    'storm harbour ship',
  ];
  for (const query of queries) {
    for (const bm25 of [BM25_DEFAULTS, { k1: 1.2, b: 0.75 }, { k1: 2, b: 0 }]) {
      const actual = await lexical(t.context.pool, owner, query, { k: 5, bm25 });
      t.true(actual.length > 0, query);
      assertSameRanking(t, actual, await referenceBm25(t.context.pool, owner, query, bm25), 5);
    }
  }
});

test('a question whose words are spread over a chunk is found, though no chunk holds all of them', async (t) => {
  const { owner } = await freshTenant(t.context.pool);
  const seeded = await seed(t.context.pool, owner, CORPUS);
  const question = 'Which rock grows large crystals because it cools slowly, and where was it quarried?';
  const hits = await lexical(t.context.pool, owner, question);
  t.is(hits[0]?.chunkId, seeded.chunkIds[0], 'the granite explanation first');
  t.true(hits.length >= 3, 'other chunks sharing some words are found too');
  // The same words as one web-search phrase of required words would find nothing.
  const all = await withTenant(t.context.pool, owner, (tx) =>
    tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
      SELECT c.id FROM chunks c WHERE c.tenant_id = ${owner.tenantId}
        AND c.tsv @@ websearch_to_tsquery('english', app_search_text(${question}))
    `),
  );
  t.deepEqual(all, []);
});

test('the statistics follow activation, re-ingestion and deletion', async (t) => {
  const { pool } = t.context;
  const { owner } = await freshTenant(pool);
  const stats = () =>
    withTenant(pool, owner, (tx) =>
      tx.one(sql.type(z.object({ chunks: z.number(), length: z.number(), postings: z.number(), expected: z.number() }))`
        SELECT coalesce((SELECT sum(chunk_count) FROM lexical_stats WHERE tenant_id = ${owner.tenantId}), 0)::int AS chunks,
               coalesce((SELECT sum(total_length) FROM lexical_stats WHERE tenant_id = ${owner.tenantId}), 0)::int AS length,
               (SELECT count(*) FROM lexical_postings WHERE tenant_id = ${owner.tenantId})::int AS postings,
               (SELECT coalesce(sum(cardinality(u.positions)), 0) FROM chunks c
                  JOIN documents d ON d.id = c.document_id AND d.active_version = c.version,
                  unnest(c.tsv) AS u WHERE c.tenant_id = ${owner.tenantId})::int AS expected
      `),
    );
  t.deepEqual(await stats(), { chunks: 0, length: 0, postings: 0, expected: 0 });
  const first = await seed(pool, owner, CORPUS.slice(0, 3));
  const afterFirst = await stats();
  t.is(afterFirst.chunks, 3);
  t.is(afterFirst.length, afterFirst.expected);
  t.true(afterFirst.postings > 10);

  // A second version replaces the first: its words are found, the old ones no longer.
  await withTenant(pool, owner, async (tx) => {
    await startVersion(tx, first.documentId, 2);
    await writeEmbeddedChunks(tx, embedder, {
      documentId: first.documentId,
      version: 2,
      chunks: [{ content: 'Obsidian is volcanic glass, sharp enough for surgical blades.' }],
    });
    // Until it is active, search still serves version 1.
    t.is((await lexicalSearch(tx, { tenantId: owner.tenantId, text: 'obsidian', k: 5 })).length, 0);
    await activate(tx, first.documentId, 2);
  });
  const afterSecond = await stats();
  t.is(afterSecond.chunks, 1);
  t.is(afterSecond.length, afterSecond.expected);
  t.is((await lexical(pool, owner, 'obsidian')).length, 1);
  t.is((await lexical(pool, owner, 'basalt')).length, 0);

  const other = await seed(pool, owner, CORPUS.slice(3));
  t.is((await stats()).chunks, 1 + CORPUS.length - 3);
  await withTenant(pool, owner, (tx) => tx.query(sql.unsafe`DELETE FROM documents WHERE id = ${other.documentId}`));
  const afterDelete = await stats();
  t.deepEqual(afterDelete, afterSecond);
  assertSameRanking(
    t,
    await lexical(pool, owner, 'volcanic glass'),
    await referenceBm25(pool, owner, 'volcanic glass'),
    10,
  );
});

test('a private document counts toward its owner’s statistics alone, and is found by its owner alone', async (t) => {
  const { pool } = t.context;
  const { owner, member } = await freshTenant(pool);
  await seed(pool, owner, CORPUS);
  const query = 'granite quarry';
  const before = await lexical(pool, member, query);
  t.true(before.length > 0);
  const secret = await seed(pool, owner, ['Granite quarry: the granite quarry sale is confidential.'], {
    visibility: 'private',
  });
  // The member's ranking and scores are exactly what they were: the private chunk's terms do
  // not change the member's N, avgdl or document frequencies.
  t.deepEqual(await lexical(pool, member, query), before);
  const mine = await lexical(pool, owner, query);
  t.is(mine[0]?.chunkId, secret.chunkIds[0]);
  assertSameRanking(t, mine, await referenceBm25(pool, owner, query), 10);
  assertSameRanking(t, before, await referenceBm25(pool, member, query), 10);
  // Nor can the member read the private postings or statistics directly.
  const visible = await withTenant(pool, member, (tx) =>
    tx.one(sql.type(z.object({ postings: z.number(), scopes: z.number() }))`
      SELECT (SELECT count(*) FROM lexical_postings WHERE chunk_id = ${secret.chunkIds[0]!})::int AS postings,
             (SELECT count(*) FROM lexical_stats WHERE private_to IS NOT NULL)::int AS scopes
    `),
  );
  t.deepEqual(visible, { postings: 0, scopes: 0 });
});

test('b = 0 ignores chunk length and b = 1 favours the shorter chunk with the same count of a word', async (t) => {
  const { owner } = await freshTenant(t.context.pool);
  const seeded = await seed(t.context.pool, owner, [
    'Feldspar.',
    'Feldspar, with quartz and mica, makes up most of the granite found in the northern hills and valleys.',
  ]);
  const flat = await lexical(t.context.pool, owner, 'feldspar', { bm25: { b: 0 } });
  t.is(flat.length, 2);
  t.true(Math.abs(flat[0]!.score - flat[1]!.score) < 1e-12);
  const normalised = await lexical(t.context.pool, owner, 'feldspar', { bm25: { b: 1 } });
  t.is(normalised[0]?.chunkId, seeded.chunkIds[0]);
  t.true(normalised[0]!.score > normalised[1]!.score);
});

test('quoted phrases must appear in order and excluded words must not appear', async (t) => {
  const { owner } = await freshTenant(t.context.pool);
  const seeded = await seed(t.context.pool, owner, CORPUS);
  const [granite, quarryWall, , , , quarryWorkers] = seeded.chunkIds;
  const ids = async (text: string) => (await lexical(t.context.pool, owner, text)).map((hit) => hit.chunkId);
  t.deepEqual(await ids('"granite quarry" hours'), [quarryWorkers]);
  t.deepEqual(await ids('“granite quarry”'), [quarryWorkers], 'curly quotes are quotes');
  t.deepEqual((await ids('granite -quarry')).sort(), [granite].sort());
  const withoutGrain = await ids('granite quarry -"natural grain"');
  t.true(withoutGrain.includes(granite!) && withoutGrain.includes(quarryWorkers!));
  t.false(withoutGrain.includes(quarryWall!));
  t.deepEqual(await ids('-granite'), [], 'exclusions alone rank nothing');
  t.true((await ids('"the"')).length === 0, 'a phrase of stopwords constrains nothing, and nothing ranks');
});

test('the query parser keeps hyphenated words and splits off phrases and exclusions', (t) => {
  t.deepEqual(parseQuery('state-of-the-art granite'), { ranked: 'state-of-the-art granite', constraints: null });
  t.deepEqual(parseQuery('"granite quarry" -basalt rock'), {
    ranked: 'granite quarry rock',
    constraints: '"granite quarry" -basalt',
  });
  t.deepEqual(parseQuery('rock -"sea creatures"'), { ranked: 'rock', constraints: '-"sea creatures"' });
  t.deepEqual(parseQuery('an "unclosed phrase'), { ranked: 'an unclosed phrase', constraints: '"unclosed phrase"' });
});

test('another tenant’s postings never count, and its chunks never appear', async (t) => {
  const { pool } = t.context;
  const ours = await freshTenant(pool);
  const theirs = await freshTenant(pool);
  await seed(pool, ours.owner, CORPUS);
  const before = await lexical(pool, ours.member, 'granite quarry harbour');
  t.true(before.length > 0);
  const foreign = await seed(pool, theirs.owner, ['Granite quarry harbour, granite quarry harbour.']);
  const after = await lexical(pool, ours.member, 'granite quarry harbour');
  t.deepEqual(after, before);
  t.false(after.some((hit) => hit.documentId === foreign.documentId));
  t.is((await lexical(pool, theirs.owner, 'granite quarry harbour'))[0]?.documentId, foreign.documentId);
});
