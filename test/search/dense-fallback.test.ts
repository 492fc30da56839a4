// The dense leg never comes back short for a large tenant. An iterative HNSW scan walks the
// graph outwards from the query through every tenant's rows and stops when its budget is spent
// (hnsw.max_scan_tuples; work_mem × hnsw.scan_mem_multiplier of memory). Here a crowd tenant's
// 3,000 chunks all carry the words of the short and rare queries, and the large tenant's 2,100
// (more than DENSE_TUNING.exactMaxCandidates, so searched through the index) almost never do:
// every one of the crowd's rows is nearer those queries than any of ours. A scan whose budget
// runs out among them, as it does in a table many times this size, finds none of ours; the
// search must still give the tenant its exact top k, as for an out-of-vocabulary query.
import anyTest, { type TestFn } from 'ava';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createCorpusModel, chunkText, seededRandom } from '../../bench/lib/corpus.ts';
import { insertChunks } from '../../db/queries/chunks.ts';
import { denseSearch, type DenseQuery, type DenseTuning } from '../../db/queries/search/dense.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { LocalHashEmbedder } from '../../rag/embed/local-hash.ts';
import { activate, chunkRows, createDocument } from '../helpers/corpus.ts';
import { createTenantWithOwner } from '../helpers/fixtures.ts';
import { appPool } from '../helpers/stack.ts';
import type { Party } from './world.ts';

const K = 10;
const CHUNKS_PER_DOCUMENT = 10;
const embedder = new LocalHashEmbedder();

/** A scan budget that a table of this size spends among the crowd's rows. */
const SMALL_BUDGET: Partial<DenseTuning> = { efSearch: 40, maxScanTuples: 1000 };

const QUERIES = {
  short: 'LH2',
  rare: 'pharos',
  'out of vocabulary': 'zqxv-42 qwyrtz',
} as const;

interface Context {
  pool: DatabasePool;
  large: Party;
}

const test = anyTest as TestFn<Context>;

/** Writes the texts as documents of ten chunks each under the tenant's context; answers the chunk ids in order. */
async function seedTexts(pool: DatabasePool, who: Party, texts: readonly string[]): Promise<string[]> {
  const vectors = await embedder.embed(texts);
  const ids: string[] = [];
  for (let from = 0; from < texts.length; from += 50 * CHUNKS_PER_DOCUMENT) {
    const batch = texts.slice(from, from + 50 * CHUNKS_PER_DOCUMENT);
    ids.push(
      ...(await withTenant(pool, who, async (tx) => {
        const rows = [];
        const documents: string[] = [];
        for (let d = 0; d * CHUNKS_PER_DOCUMENT < batch.length; d++) {
          const documentId = await createDocument(tx, who.tenantId, {
            title: `Document ${from + d}`,
            ownerUserId: who.userId,
          });
          documents.push(documentId);
          const start = d * CHUNKS_PER_DOCUMENT;
          rows.push(
            ...chunkRows({
              documentId,
              version: 1,
              model: embedder.model,
              chunks: batch.slice(start, start + CHUNKS_PER_DOCUMENT).map((content) => ({ content })),
              vectors: vectors.slice(from + start, from + start + CHUNKS_PER_DOCUMENT),
            }),
          );
        }
        await insertChunks(tx, rows);
        for (const id of documents) await activate(tx, id, 1);
        return tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
          SELECT id FROM chunks WHERE document_id = ANY(${sql.array(documents, 'uuid')}) ORDER BY array_position(${sql.array(documents, 'uuid')}, document_id), ordinal
        `);
      })),
    );
  }
  return ids;
}

test.before(async (t) => {
  const pool = await appPool();
  const [largeOwner, crowdOwner] = await Promise.all([createTenantWithOwner(pool), createTenantWithOwner(pool)]);
  const large = { tenantId: largeOwner.tenantId, userId: largeOwner.userId };
  const crowd = { tenantId: crowdOwner.tenantId, userId: crowdOwner.userId };
  const ours = createCorpusModel(202);
  const theirs = createCorpusModel(101);
  const random = seededRandom(9);
  const largeTexts = Array.from({ length: 2100 }, (_, i) => chunkText(ours, random, i % 50, 60));
  largeTexts[1234] = `${largeTexts[1234]} The pharos stood on the point.`;
  const crowdTexts = Array.from(
    { length: 3000 },
    (_, i) => `LH2 pharos. ${chunkText(theirs, random, i % 50, 20)} LH2 pharos.`,
  );
  await seedTexts(pool, large, largeTexts);
  await seedTexts(pool, crowd, crowdTexts);
  t.context = { pool, large };
});

test.after.always(async (t) => {
  await t.context.pool?.end();
});

function dense(t: { context: Context }, text: string, options: Pick<DenseQuery, 'strategy' | 'tuning'> = {}) {
  const { pool, large } = t.context;
  return withTenant(pool, large, (tx) =>
    denseSearch(tx, {
      tenantId: large.tenantId,
      vector: embedder.embedOne(text),
      model: embedder.model,
      k: K,
      ...options,
    }),
  );
}

for (const [kind, text] of Object.entries(QUERIES)) {
  for (const [budget, tuning] of [
    ['the default', {}],
    ['a small', SMALL_BUDGET],
  ] as const) {
    test(`a large tenant gets k dense results for a ${kind} query, with ${budget} scan budget`, async (t) => {
      const exact = await dense(t, text, { strategy: 'exact' });
      const found = await dense(t, text, { tuning });
      t.is(exact.hits.length, K);
      t.is(found.hits.length, K, `strategy ${found.strategy}`);
      if (found.strategy === 'index-then-exact') t.deepEqual(found.hits, exact.hits);
      t.not(found.strategy, 'exact', 'the tenant is large enough for the index');
    });
  }
}

test('the index alone comes back short for the short query once the crowd spends its budget (the trap)', async (t) => {
  const alone = await dense(t, QUERIES.short, { strategy: 'index', tuning: SMALL_BUDGET });
  t.is(alone.strategy, 'index');
  t.true(alone.hits.length < K, `the index alone found ${alone.hits.length}`);
  t.is((await dense(t, QUERIES.short, { tuning: SMALL_BUDGET })).strategy, 'index-then-exact');
});

test('a query vector of zero length gets k results at similarity 0', async (t) => {
  const { pool, large } = t.context;
  const found = await withTenant(pool, large, (tx) =>
    denseSearch(tx, { tenantId: large.tenantId, vector: new Array<number>(384).fill(0), model: embedder.model, k: K }),
  );
  t.is(found.strategy, 'exact');
  t.is(found.hits.length, K);
  t.deepEqual(new Set(found.hits.map((hit) => hit.score)), new Set([0]));
});
