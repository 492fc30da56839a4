// The definer functions that maintenance calls reach every tenant, so what they remove or reveal
// is decided by the database, not by their caller: the retention of expired and revoked
// credentials, how stale an unfinished job must be before its ids leave the function, and how
// many rows one call answers. Each attempt runs as the runtime role, in a transaction that is
// rolled back, so that it never purges rows another test file is about to count.
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import pg from 'pg';
import { withClient } from '../scripts/lib/bootstrap.ts';
import type { DatabasePool } from 'slonik';
import { createDocument, createTenantWithOwner, type TenantFixture } from './helpers/fixtures.ts';
import { appPool, testConfig } from './helpers/stack.ts';

interface Context {
  readonly app: DatabasePool;
  readonly owner: TenantFixture;
}

const test = anyTest as TestFn<Context>;

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(Date.now() - ms);
const ahead = (ms: number) => new Date(Date.now() + ms);

/** Cutoffs a caller could hope would widen a purge or a listing. */
const HOSTILE_CUTOFFS = ['infinity', '9999-12-31T00:00:00Z', 'now'] as const;

test.before(async (t) => {
  const app = await appPool();
  t.context = { app, owner: await createTenantWithOwner(app) };
});

test.after.always(async (t) => {
  await t.context.app?.end();
});

/** Runs `fn` as the runtime role in a transaction that is always rolled back. */
function rolledBack<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(testConfig().DATABASE_URL as string, async (client) => {
    await client.query('BEGIN');
    try {
      return await fn(client);
    } finally {
      await client.query('ROLLBACK');
    }
  });
}

/** Sets the row-level-security context for the rest of the transaction. */
async function setContext(client: pg.Client, context: { tenantId?: string; userId?: string }): Promise<void> {
  await client.query(`SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)`, [
    context.tenantId ?? '',
    context.userId ?? '',
  ]);
}

/** Inserts rows under `context`, then returns their ids (the rows exist only in this transaction). */
async function insertRows(
  client: pg.Client,
  context: { tenantId?: string; userId?: string },
  statement: string,
  rows: readonly (readonly unknown[])[],
): Promise<string[]> {
  await setContext(client, context);
  const ids: string[] = [];
  for (const values of rows) {
    const id = randomUUID();
    await client.query(statement, [id, ...values]);
    ids.push(id);
  }
  return ids;
}

/** The ids among `ids` still in `table`, seen under the context that owns them. */
async function remaining(
  client: pg.Client,
  table: 'sessions' | 'api_keys',
  context: { tenantId?: string; userId?: string },
  ids: readonly string[],
): Promise<string[]> {
  await setContext(client, context);
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM ${pg.escapeIdentifier(table)} WHERE id = ANY($1::uuid[]) ORDER BY id`,
    [ids],
  );
  return rows.map((row) => row.id);
}

test('the purge functions take no cutoff from their caller', async (t) => {
  for (const fn of ['maintenance_purge_sessions', 'maintenance_purge_api_keys']) {
    for (const cutoff of HOSTILE_CUTOFFS) {
      await t.throwsAsync(
        rolledBack((client) => client.query(`SELECT ${fn}($1::timestamptz)`, [cutoff])),
        {
          instanceOf: pg.DatabaseError,
          code: '42883',
          message: `function ${fn}(timestamp with time zone) does not exist`,
        },
        `${fn}('${cutoff}')`,
      );
    }
  }
});

test("the limits are the schema owner's: the runtime role may neither read nor replace them", async (t) => {
  await t.throwsAsync(
    rolledBack((client) => client.query('SELECT * FROM maintenance_limits()')),
    {
      instanceOf: pg.DatabaseError,
      code: '42501',
      message: 'permission denied for function maintenance_limits',
    },
  );
  await t.throwsAsync(
    rolledBack((client) =>
      client.query(`
        CREATE OR REPLACE FUNCTION public.maintenance_limits()
          RETURNS TABLE (session_retention interval, api_key_retention interval, reconcile_after interval,
                         reconcile_batch integer)
          LANGUAGE sql IMMUTABLE AS $$ SELECT interval '0', interval '0', interval '0', 1000000 $$
      `),
    ),
    { instanceOf: pg.DatabaseError, code: '42501', message: 'permission denied for schema public' },
  );
});

test('as the runtime role, the session purge removes only sessions past the retention of the server', async (t) => {
  const { owner } = t.context;
  const context = { userId: owner.userId };
  const insert = 'INSERT INTO sessions (id, user_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4)';
  const at = (expiresAt: Date, revokedAt: Date | null = null) => [owner.userId, expiresAt, revokedAt];
  const [left, keep, removed] = await rolledBack(async (client) => {
    const kept = await insertRows(client, context, insert, [
      at(ahead(HOUR)),
      at(ago(DAY)),
      at(ago(6 * DAY)),
      at(ahead(HOUR), ago(HOUR)),
    ]);
    const gone = await insertRows(client, context, insert, [at(ago(8 * DAY)), at(ahead(DAY), ago(30 * DAY))]);
    const { rows } = await client.query<{ removed: string }>('SELECT maintenance_purge_sessions() AS removed');
    const still = await remaining(client, 'sessions', context, [...kept, ...gone]);
    return [still, kept.sort(), Number(rows[0]?.removed)] as const;
  });
  t.deepEqual(left, keep);
  t.true(removed >= 2);
});

test('as the runtime role, the API-key purge removes only keys past the retention of the server', async (t) => {
  const { owner } = t.context;
  const context = { tenantId: owner.tenantId };
  const insert = `
    INSERT INTO api_keys (id, tenant_id, created_by, name, prefix, key_hash, role, expires_at, revoked_at)
    VALUES ($1::uuid, $2, $3, 'retention', 'rt_' || $1::text, 'x', 'viewer', $4, $5)
  `;
  const at = (expiresAt: Date | null, revokedAt: Date | null) => [owner.tenantId, owner.userId, expiresAt, revokedAt];
  const [left, keep, removed] = await rolledBack(async (client) => {
    const kept = await insertRows(client, context, insert, [
      at(null, null),
      at(null, ago(HOUR)),
      at(ago(6 * DAY), null),
    ]);
    const gone = await insertRows(client, context, insert, [at(null, ago(8 * DAY)), at(ago(30 * DAY), null)]);
    const { rows } = await client.query<{ removed: string }>('SELECT maintenance_purge_api_keys() AS removed');
    const still = await remaining(client, 'api_keys', context, [...kept, ...gone]);
    return [still, kept.sort(), Number(rows[0]?.removed)] as const;
  });
  t.deepEqual(left, keep);
  t.true(removed >= 2);
});

test('unfinished jobs leave the lookup only once stale, and a call answers one batch at most', async (t) => {
  const { owner } = t.context;
  const insert = `
    INSERT INTO jobs (id, tenant_id, kind, subject, workflow_id, run_id, status, updated_at)
    VALUES ($1::uuid, $2, 'maintenance', 'retention', 'retention:' || $1::text, $1::text, 'running', $3)
  `;
  for (const cutoff of HOSTILE_CUTOFFS) {
    const [fresh, stale, listed] = await rolledBack(async (client) => {
      const context = { tenantId: owner.tenantId };
      const [young] = await insertRows(client, context, insert, [[owner.tenantId, new Date()]]);
      const [old] = await insertRows(client, context, insert, [[owner.tenantId, ago(HOUR)]]);
      await setContext(client, {});
      const { rows } = await client.query<{ workflow_id: string }>(
        'SELECT workflow_id FROM maintenance_unfinished_jobs($1::timestamptz, $2)',
        [cutoff, 1_000_000],
      );
      return [`retention:${young}`, `retention:${old}`, rows.map((row) => row.workflow_id)] as const;
    });
    t.false(listed.includes(fresh), `a job that moved a moment ago, asked with '${cutoff}'`);
    t.true(listed.length <= 500, `at most one batch, asked with '${cutoff}'`);
    if (cutoff !== 'now') t.true(listed.includes(stale), `a stale job, asked with '${cutoff}'`);
  }
  const none = await rolledBack(async (client) => {
    const { rows } = await client.query('SELECT * FROM maintenance_unfinished_jobs($1::timestamptz, $2)', [
      'infinity',
      -1,
    ]);
    return rows;
  });
  t.deepEqual(none, []);
});

test('re-embedding candidates come a bounded page at a time, whatever limit is asked', async (t) => {
  const { app } = t.context;
  const owner = await createTenantWithOwner(app);
  const embeddingModel = 'retention-test-model';
  for (let batch = 0; batch < 11; batch += 1) {
    await Promise.all(
      Array.from({ length: 10 }, () =>
        createDocument(app, { tenantId: owner.tenantId, ownerUserId: owner.userId, embeddingModel }),
      ),
    );
  }
  const listed = await rolledBack(async (client) => {
    await setContext(client, { tenantId: owner.tenantId, userId: owner.userId });
    // As an ingestion leaves them: completed, with version 1 served.
    await client.query(`UPDATE documents SET active_version = 1, status = 'completed'`);
    const { rows } = await client.query('SELECT id FROM reembed_candidates($1, $2, NULL, $3)', [
      'another-model',
      384,
      1_000_000,
    ]);
    return rows;
  });
  t.is(listed.length, 100);
});
