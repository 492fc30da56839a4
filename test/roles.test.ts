// The database roles: the runtime role (quarry_app) that the API and worker log in as can
// neither leave row-level security nor become the schema owner, and owns nothing; the owner
// is held to the policies too (FORCE ROW LEVEL SECURITY), apart from the narrow SECURITY
// DEFINER lookups, which answer the runtime role's calls.
import anyTest, { type TestFn, type ThrowsExpectation } from 'ava';
import pg from 'pg';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../db/with-tenant.ts';
import {
  WORLD_TABLES,
  attempt,
  contextOf,
  createTenantWorld,
  worldRows,
  type TenantWorld,
} from './helpers/fixtures.ts';
import { appPool, ownerPool } from './helpers/stack.ts';

interface Context {
  readonly app: DatabasePool;
  readonly owner: DatabasePool;
  readonly world: TenantWorld;
  readonly prefix: string;
}

const test = anyTest as TestFn<Context>;

function insufficientPrivilege(message: RegExp): ThrowsExpectation<pg.DatabaseError> {
  return { instanceOf: pg.DatabaseError, code: '42501', message };
}

const Count = z.object({ count: z.number().int() });

async function protectedTables(pool: DatabasePool): Promise<readonly string[]> {
  return pool.manyFirst(sql.type(z.object({ name: z.string() }))`
    SELECT c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relrowsecurity
    ORDER BY c.relname
  `);
}

test.before(async (t) => {
  const [app, owner] = await Promise.all([appPool(), ownerPool()]);
  const world = await createTenantWorld(app);
  const prefix = await withTenant(app, contextOf(world), (tx) =>
    tx.oneFirst(sql.type(z.object({ prefix: z.string() }))`SELECT prefix FROM api_keys WHERE id = ${world.apiKeyId}`),
  );
  t.context = { app, owner, world, prefix };
});

test.after.always(async (t) => {
  await Promise.all([t.context.app?.end(), t.context.owner?.end()]);
});

test('the runtime role is neither superuser nor exempt from row-level security, and inherits no role', async (t) => {
  const role = await t.context.app.one(sql.type(
    z.object({ name: z.string(), rolsuper: z.boolean(), rolbypassrls: z.boolean(), memberOf: z.number().int() }),
  )`
    SELECT r.rolname AS name, r.rolsuper, r.rolbypassrls,
           (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS "memberOf"
    FROM pg_roles r WHERE r.rolname = current_user
  `);
  t.deepEqual(role, { name: 'quarry_app', rolsuper: false, rolbypassrls: false, memberOf: 0 });
});

test('the runtime role owns no table, sequence, function or schema', async (t) => {
  const owned = await t.context.app.one(sql.type(
    z.object({
      tables: z.number().int(),
      relations: z.number().int(),
      functions: z.number().int(),
      schemas: z.number().int(),
    }),
  )`
    SELECT (SELECT count(*)::int FROM pg_tables WHERE tableowner = current_user) AS tables,
           (SELECT count(*)::int FROM pg_class WHERE relowner = current_user::regrole) AS relations,
           (SELECT count(*)::int FROM pg_proc WHERE proowner = current_user::regrole) AS functions,
           (SELECT count(*)::int FROM pg_namespace WHERE nspowner = current_user::regrole) AS schemas
  `);
  t.deepEqual(owned, { tables: 0, relations: 0, functions: 0, schemas: 0 });
});

test('the runtime role can neither disable nor unforce row-level security on any table', async (t) => {
  const tables = await protectedTables(t.context.app);
  t.true(tables.includes('tenants'));
  for (const table of tables) {
    const name = sql.identifier([table]);
    const notOwner = insufficientPrivilege(new RegExp(`^must be owner of table ${table}$`));
    await t.throwsAsync(
      attempt(t.context.app, null, sql.unsafe`ALTER TABLE ${name} DISABLE ROW LEVEL SECURITY`),
      notOwner,
    );
    await t.throwsAsync(
      attempt(t.context.app, null, sql.unsafe`ALTER TABLE ${name} NO FORCE ROW LEVEL SECURITY`),
      notOwner,
    );
  }
});

test('the runtime role can neither drop, alter nor create a policy', async (t) => {
  const { app } = t.context;
  await t.throwsAsync(
    attempt(app, null, sql.unsafe`DROP POLICY tenants_current ON tenants`),
    insufficientPrivilege(/^must be owner of (relation|table) tenants$/),
  );
  await t.throwsAsync(
    attempt(app, null, sql.unsafe`ALTER POLICY tenants_current ON tenants USING (true)`),
    insufficientPrivilege(/^must be owner of (relation|table) tenants$/),
  );
  await t.throwsAsync(
    attempt(app, null, sql.unsafe`CREATE POLICY everything ON tenants USING (true)`),
    insufficientPrivilege(/^must be owner of (relation|table) tenants$/),
  );
});

test('the runtime role cannot set role to the owner', async (t) => {
  await t.throwsAsync(
    attempt(t.context.app, null, sql.unsafe`SET ROLE quarry_owner`),
    insufficientPrivilege(/^permission denied to set role "quarry_owner"$/),
  );
});

test('the runtime role cannot set session authorization to the owner', async (t) => {
  await t.throwsAsync(
    attempt(t.context.app, null, sql.unsafe`SET SESSION AUTHORIZATION quarry_owner`),
    insufficientPrivilege(/^permission denied to set session authorization/),
  );
});

test('the runtime role cannot create a table in public', async (t) => {
  await t.throwsAsync(
    attempt(t.context.app, null, sql.unsafe`CREATE TABLE public.intruder (id int)`),
    insufficientPrivilege(/^permission denied for schema public$/),
  );
});

test('the runtime role cannot read or write the migrations ledger', async (t) => {
  const denied = insufficientPrivilege(/^permission denied for table migrations$/);
  await t.throwsAsync(attempt(t.context.app, null, sql.unsafe`SELECT count(*) FROM migrations`), denied);
  await t.throwsAsync(attempt(t.context.app, null, sql.unsafe`DELETE FROM migrations`), denied);
});

test('the runtime role cannot truncate a table, which row-level security would not filter', async (t) => {
  await t.throwsAsync(
    attempt(t.context.app, null, sql.unsafe`TRUNCATE tenants CASCADE`),
    insufficientPrivilege(/^permission denied for table tenants$/),
  );
});

test('turning row_security off makes a filtered query fail instead of bypassing the policy', async (t) => {
  await t.throwsAsync(
    t.context.app.transaction(async (tx) => {
      await tx.query(sql.unsafe`SET LOCAL row_security = off`);
      return tx.query(sql.unsafe`SELECT count(*) FROM tenants`);
    }),
    insufficientPrivilege(/^query would be affected by row-level security policy for table "tenants"$/),
  );
});

test('the owner sees none of the fixture rows without a context, and all of them with one', async (t) => {
  const { owner, world } = t.context;
  const rows = worldRows(world);
  t.deepEqual([...WORLD_TABLES].sort(), [...(await protectedTables(owner))]);
  for (const table of WORLD_TABLES) {
    const query = sql.type(Count)`
      SELECT count(*)::int AS count FROM ${sql.identifier([table])} WHERE ${rows[table].where}
    `;
    t.is(await owner.oneFirst(query), 0, `${table} without a context`);
    t.is(await withTenant(owner, contextOf(world), (tx) => tx.oneFirst(query)), rows[table].count, `${table} with one`);
  }
});

test('PUBLIC may execute none of the functions the schema owner wrote', async (t) => {
  const open = await t.context.owner.anyFirst(sql.type(z.object({ signature: z.string() }))`
    SELECT p.oid::regprocedure::text AS signature
    FROM pg_proc p
    WHERE p.proowner = current_user::regrole
      AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0))
    ORDER BY 1
  `);
  t.deepEqual(open, []);
});

test('the security definer lookups answer the runtime role', async (t) => {
  const { app, world, prefix } = t.context;
  const found = await app.one(sql.type(
    z.object({
      taken: z.boolean(),
      userId: z.uuid().nullable(),
      loginId: z.uuid().nullable(),
      keyTenant: z.uuid().nullable(),
    }),
  )`
    SELECT auth_email_taken(${world.email}) AS taken,
           auth_user_id_by_email(${world.email}) AS "userId",
           (SELECT id FROM auth_lookup_user(${world.email})) AS "loginId",
           (SELECT tenant_id FROM auth_lookup_api_key(${prefix})) AS "keyTenant"
  `);
  t.deepEqual(found, { taken: true, userId: world.userId, loginId: world.userId, keyTenant: world.tenantId });

  const mine = await withTenant(app, { userId: world.userId }, (tx) =>
    tx.manyFirst(sql.type(z.object({ id: z.uuid() }))`SELECT id FROM auth_my_tenants()`),
  );
  t.deepEqual(mine, [world.tenantId]);
});

test("the security definer lookups give the owner's own sessions nothing", async (t) => {
  const { owner, world } = t.context;
  const taken = await owner.oneFirst(sql.type(z.object({ taken: z.boolean() }))`
    SELECT auth_email_taken(${world.email}) AS taken
  `);
  t.false(taken);
});
