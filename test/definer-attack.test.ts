// The attack on SECURITY DEFINER functions, as the runtime role would try it. Unless a definer
// function pins pg_temp last in its search_path, pg_temp is searched first for relation names,
// so quarry_app could create pg_temp.sessions (or any table a definer function reads) with a
// trigger or a policy of its own, and have the function run that code as the schema owner.
// Two defences, each tested on its own: quarry_app may not create temporary objects at all, and
// even with TEMPORARY granted back (for this test only), every definer function in public, read
// from pg_proc so that a new one cannot be skipped, still resolves the real tables.
import anyTest, { type TestFn } from 'ava';
import pg from 'pg';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { withClient } from '../scripts/lib/bootstrap.ts';
import { withTenant } from '../db/with-tenant.ts';
import { contextOf, createTenantWorld, type TenantWorld } from './helpers/fixtures.ts';
import { appPool, ownerPool, testConfig } from './helpers/stack.ts';

interface World extends TenantWorld {
  readonly prefix: string;
}

interface Context {
  readonly app: DatabasePool;
  readonly owner: DatabasePool;
  readonly world: World;
}

const test = anyTest as TestFn<Context>;

const Definer = z.object({
  signature: z.string(),
  name: z.string(),
  argNames: z.array(z.string()),
  argTypes: z.array(z.string()),
  volatile: z.boolean(),
  searchPath: z.string().nullable(),
});
type Definer = z.infer<typeof Definer>;

interface Column {
  readonly table: string;
  readonly column: string;
  readonly type: string;
}

/** Every SECURITY DEFINER function in public, as the runtime role reads the catalog. */
async function definerFunctions(pool: DatabasePool): Promise<readonly Definer[]> {
  return pool.any(sql.type(Definer)`
    SELECT p.oid::regprocedure::text AS signature, p.proname AS name,
           COALESCE(p.proargnames[1:p.pronargs], '{}') AS "argNames",
           ARRAY(SELECT format_type(a.t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, n)
                 ORDER BY a.n) AS "argTypes",
           p.provolatile = 'v' AS volatile,
           (SELECT substr(c, length('search_path=') + 1) FROM unnest(p.proconfig) AS c
            WHERE c LIKE 'search_path=%') AS "searchPath"
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.prosecdef
    ORDER BY 1
  `);
}

const app = await appPool();
const definers = await definerFunctions(app);

/** A value for each argument that a real caller could pass. A new argument type must be added here. */
function plausibleArgument(world: World, name: string, type: string): unknown {
  switch (type) {
    case 'text':
      return name === 'p_email' ? world.email : name === 'p_prefix' ? world.prefix : 'definer-attack';
    case 'integer':
    case 'bigint':
      return 10;
    case 'boolean':
      return false;
    case 'uuid':
      return name === 'p_after' ? null : world.userId;
    case 'uuid[]':
      return [world.documentId, world.privateDocumentId, world.userId];
    case 'timestamp with time zone':
      return new Date().toISOString();
    default:
      throw new Error(`no plausible value for ${name} ${type}: add one to plausibleArgument`);
  }
}

function callOf(definer: Definer, world: World): { text: string; values: unknown[] } {
  const values = definer.argTypes.map((type, i) => plausibleArgument(world, definer.argNames[i] ?? '', type));
  const args = definer.argTypes.map((type, i) => `$${i + 1}::${type}`).join(', ');
  return { text: `SELECT * FROM public.${pg.escapeIdentifier(definer.name)}(${args})`, values };
}

const SPY = 'definer attack';

/**
 * Shadows every table of public with a temporary view of the same name and columns. Reading it
 * runs a function that raises an error naming the role it runs as, before any row (and so any
 * WHERE clause) is looked at; writing it runs an INSTEAD OF trigger that does the same. The
 * views are granted to PUBLIC, so that the definer's role may use them.
 */
async function armShadows(client: pg.Client): Promise<readonly string[]> {
  const { rows } = await client.query<Column>(`
    SELECT c.relname AS "table", a.attname AS "column", format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
    ORDER BY c.relname, a.attnum
  `);
  await client.query(`
    CREATE FUNCTION pg_temp.spy(p_table text) RETURNS SETOF record LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '${SPY}: pg_temp.% read as %', p_table, current_user;
    END $$;
    CREATE FUNCTION pg_temp.spy_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '${SPY}: pg_temp.% written as %', TG_TABLE_NAME, current_user;
    END $$;
  `);
  const tables = [...new Set(rows.map((row) => row.table))];
  for (const table of tables) {
    const name = pg.escapeIdentifier(table);
    const columns = rows
      .filter((row) => row.table === table)
      .map((row) => `${pg.escapeIdentifier(row.column)} ${row.type}`);
    await client.query(`
      CREATE TEMP VIEW ${name} AS SELECT * FROM pg_temp.spy(${pg.escapeLiteral(table)}) AS s(${columns.join(', ')});
      CREATE TRIGGER spy INSTEAD OF INSERT OR UPDATE OR DELETE ON pg_temp.${name}
        FOR EACH ROW EXECUTE FUNCTION pg_temp.spy_write();
      GRANT ALL ON pg_temp.${name} TO PUBLIC;
    `);
  }
  return tables;
}

/** A session of the runtime role of its own, with the world's context for the whole session. */
function asRuntimeRole<T>(world: World, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(testConfig().DATABASE_URL as string, async (client) => {
    await client.query(`SELECT set_config('app.tenant_id', $1, false), set_config('app.user_id', $2, false)`, [
      world.tenantId,
      world.userId,
    ]);
    return fn(client);
  });
}

async function setTemporary(owner: DatabasePool, grant: boolean): Promise<void> {
  const database = sql.identifier([
    await owner.oneFirst(sql.type(z.object({ db: z.string() }))`SELECT current_database() AS db`),
  ]);
  await owner.query(
    grant
      ? sql.unsafe`GRANT TEMPORARY ON DATABASE ${database} TO quarry_app`
      : sql.unsafe`REVOKE TEMPORARY ON DATABASE ${database} FROM quarry_app`,
  );
}

test.before(async (t) => {
  const owner = await ownerPool();
  const world = await createTenantWorld(app);
  const prefix = await withTenant(app, contextOf(world), (tx) =>
    tx.oneFirst(sql.type(z.object({ prefix: z.string() }))`SELECT prefix FROM api_keys WHERE id = ${world.apiKeyId}`),
  );
  t.context = { app, owner, world: { ...world, prefix } };
});

test.after.always(async (t) => {
  if (t.context.owner) {
    await setTemporary(t.context.owner, false);
    await t.context.owner.end();
  }
  await app.end();
});

test.serial('the runtime role may not create temporary tables, nor may PUBLIC', async (t) => {
  const { world, owner } = t.context;
  await t.throwsAsync(
    asRuntimeRole(world, (client) => client.query('CREATE TEMP TABLE sessions (id uuid)')),
    {
      instanceOf: pg.DatabaseError,
      code: '42501',
      message: /^permission denied to create temporary tables in database /,
    },
  );
  const holders = await owner.anyFirst(sql.type(z.object({ grantee: z.string() }))`
    SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee
    FROM pg_database d, aclexplode(d.datacl) AS a
    WHERE d.datname = current_database() AND a.privilege_type = 'TEMPORARY'
    ORDER BY 1
  `);
  t.false(holders.includes('PUBLIC'));
  t.false(holders.includes('quarry_app'));
});

test.serial('every security definer function puts pg_temp last in its search_path', (t) => {
  t.true(definers.length > 0);
  for (const definer of definers) {
    const path = definer.searchPath?.split(',').map((schema) => schema.trim());
    t.true(path !== undefined && (path.at(-1) === 'pg_temp' || definer.searchPath === '""'), definer.signature);
  }
});

for (const definer of definers) {
  test.serial(`${definer.signature} resolves the real tables, not pg_temp shadows of them`, async (t) => {
    const { world, owner } = t.context;
    const call = callOf(definer, world);
    await setTemporary(owner, true);
    try {
      await asRuntimeRole(world, async (client) => {
        const tables = await armShadows(client);
        t.true(tables.includes('sessions') && tables.includes('users'));
        // One snapshot for the probes, the attack and the answer without shadows, rolled back
        // at the end so that the purge functions purge nothing here.
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        try {
          // The trap works: the runtime role's own unqualified reads hit the shadows.
          for (const table of tables) {
            await client.query('SAVEPOINT probe');
            await t.throwsAsync(client.query(`SELECT 1 FROM ${pg.escapeIdentifier(table)}`), {
              message: `${SPY}: pg_temp.${table} read as quarry_app`,
            });
            await client.query('ROLLBACK TO SAVEPOINT probe');
          }
          // This session never called the function before, so no plan of it is cached yet.
          const attacked = (await client.query(call)).rows;
          await client.query(`DROP VIEW ${tables.map((table) => `pg_temp.${pg.escapeIdentifier(table)}`).join(', ')}`);
          const unshadowed = (await client.query(call)).rows;
          // A volatile function (a purge) has already done its work the first time.
          if (!definer.volatile) t.deepEqual(attacked, unshadowed);
        } finally {
          await client.query('ROLLBACK');
        }
      });
    } finally {
      await setTemporary(owner, false);
    }
  });
}
