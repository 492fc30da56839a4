// The HNSW post-filter trap. A big tenant's 5,000 chunks sit around a point; a small tenant's
// 20 chunks lie farther out. For a query at that point the index's nearest neighbours are all
// the big tenant's, and row-level security then removes every one of them for the small
// tenant: a plain index scan leaves it with nothing. Search must still give each tenant its
// exact top k.
import anyTest, { type TestFn } from 'ava';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { denseSearch, type DenseQuery, type DenseResult } from '../../db/queries/search/dense.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { activate, createDocument } from '../helpers/corpus.ts';
import { createTenantWithOwner } from '../helpers/fixtures.ts';
import { appPool } from '../helpers/stack.ts';
import type { Party } from './world.ts';

const MODEL = 'test-cluster';
const DIMENSIONS = 384;
const K = 10;

interface Context {
  pool: DatabasePool;
  big: Party;
  small: Party;
  centre: number[];
}

const test = anyTest as TestFn<Context>;

/**
 * Writes `documents × perDocument` chunks with one INSERT … SELECT under the tenant's context,
 * each vector the centre plus uniform noise of width `spread`, then activates the documents.
 */
async function seedCluster(
  pool: DatabasePool,
  who: Party,
  input: { documents: number; perDocument: number; centre: readonly number[]; spread: number },
): Promise<void> {
  await withTenant(pool, who, async (tx) => {
    const ids: string[] = [];
    for (let i = 0; i < input.documents; i++) {
      ids.push(await createDocument(tx, who.tenantId, { title: `Cluster ${i}`, ownerUserId: who.userId }));
    }
    await tx.query(sql.unsafe`
      INSERT INTO chunks (tenant_id, document_id, version, ordinal, visibility, owner_user_id, content,
                          start_offset, end_offset, embedding_model, embedding, embedding_dims)
      SELECT d.tenant_id, d.id, 1, g.n, d.visibility, d.owner_user_id, 'Chunk ' || g.n || ' of ' || d.title,
             0, 20, ${MODEL},
             (SELECT array_agg(u.x + ${input.spread} * (random() - 0.5) + 0 * g.n ORDER BY u.i)
              FROM unnest(${sql.array([...input.centre], 'float4')}) WITH ORDINALITY AS u(x, i))::vector,
             ${DIMENSIONS}
      FROM documents d CROSS JOIN generate_series(0, ${input.perDocument - 1}) AS g(n)
      WHERE d.id = ANY(${sql.array(ids, 'uuid')})
    `);
    for (const id of ids) await activate(tx, id, 1);
  });
}

test.before(async (t) => {
  const pool = await appPool();
  const [bigOwner, smallOwner] = await Promise.all([createTenantWithOwner(pool), createTenantWithOwner(pool)]);
  const big = { tenantId: bigOwner.tenantId, userId: bigOwner.userId };
  const small = { tenantId: smallOwner.tenantId, userId: smallOwner.userId };
  const centre = Array.from({ length: DIMENSIONS }, (_, i) => Math.sin(i + 1));
  await seedCluster(pool, big, { documents: 50, perDocument: 100, centre, spread: 0.6 });
  await seedCluster(pool, small, { documents: 2, perDocument: 10, centre, spread: 3 });
  t.context = { pool, big, small, centre };
});

test.after.always(async (t) => {
  await t.context.pool?.end();
});

function dense(t: { context: Context }, who: Party, strategy: DenseQuery['strategy']): Promise<DenseResult> {
  const { pool, centre } = t.context;
  return withTenant(pool, who, (tx) =>
    denseSearch(tx, { tenantId: who.tenantId, vector: centre, model: MODEL, k: K, strategy }),
  );
}

const ids = (result: DenseResult) => result.hits.map((hit) => hit.chunkId);

test('a plain index scan leaves the small tenant with almost nothing (the trap)', async (t) => {
  const { pool, small, centre } = t.context;
  const plain = await withTenant(pool, small, (tx) =>
    denseSearch(tx, {
      tenantId: small.tenantId,
      vector: centre,
      model: MODEL,
      k: K,
      strategy: 'index',
      tuning: { iterativeScan: 'off', efSearch: 40 },
    }),
  );
  t.true(plain.hits.length < K / 2, `a plain scan found ${plain.hits.length}`);
});

/** The search with `strategy`, with exact search's results and the recall against them. */
async function againstExact(t: { context: Context }, who: Party, strategy: DenseQuery['strategy']) {
  const exact = ids(await dense(t, who, 'exact'));
  const found = await dense(t, who, strategy);
  const recall = ids(found).filter((id) => exact.includes(id)).length / exact.length;
  return { found, exact, recall };
}

test('the small tenant gets its exact top k, searched exactly', async (t) => {
  const { found, exact } = await againstExact(t, t.context.small, 'auto');
  t.is(found.strategy, 'exact');
  t.is(exact.length, K);
  t.deepEqual(ids(found), exact);
});

test('through the index, an iterative scan still finds the small tenant its full top k', async (t) => {
  const { found, recall } = await againstExact(t, t.context.small, 'index');
  t.is(found.strategy, 'index');
  t.is(found.hits.length, K);
  t.true(recall >= 0.8, `recall ${recall}`);
});

test('the big tenant is searched through the index, with the recall of exact search', async (t) => {
  const { found, recall } = await againstExact(t, t.context.big, 'auto');
  t.is(found.strategy, 'index');
  t.is(found.hits.length, K);
  t.true(recall >= 0.9, `recall ${recall}`);
});

test('every hit is a chunk of the tenant that searched', async (t) => {
  const { pool, big, small } = t.context;
  for (const who of [big, small]) {
    for (const strategy of ['exact', 'index'] as const) {
      const found = ids(await dense(t, who, strategy));
      // Looked up under the searcher's own context: another tenant's chunk would not be visible.
      const own = await withTenant(pool, who, (tx) =>
        tx.oneFirst(sql.type(z.object({ n: z.number().int() }))`
          SELECT count(*)::int AS n FROM chunks WHERE id = ANY(${sql.array(found, 'uuid')}) AND tenant_id = ${who.tenantId}
        `),
      );
      t.is(own, K, strategy);
    }
  }
});
