// The migration runner (db/migrate.ts, postgres-migrations) against a scratch schema of the
// shared test database, so that the real ledger and tables are never touched: each file runs
// in its own transaction together with its ledger row, a failing file leaves nothing behind,
// and a file edited after it was applied is refused with EditedMigrationError.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { withClient } from '../scripts/lib/bootstrap.ts';
import { EditedMigrationError, runMigrations } from '../db/migrate.ts';
import { ownerPool, testConfig } from './helpers/stack.ts';

interface Context {
  readonly owner: DatabasePool;
  /** The scratch schema; the only schema on the scratch connection's search_path. */
  readonly schema: string;
  /** The owner's URL, with search_path set to the scratch schema. */
  readonly url: string;
  /** The scratch migrations directory. */
  readonly dir: string;
}

const test = anyTest as TestFn<Context>;

/**
 * postgres-migrations looks for a table named `migrations` in any schema, then reads it
 * through the search_path. The shared database's ledger in public would pass the first check
 * and fail the second, so the scratch schema gets its ledger first, from the library's own file.
 */
function ledgerDefinition(): string {
  const require = createRequire(import.meta.url);
  const library = path.dirname(require.resolve('postgres-migrations'));
  return readFileSync(path.join(library, 'migrations', '0_create-migrations-table.sql'), 'utf8');
}

test.before(async (t) => {
  const owner = await ownerPool();
  const schema = `scratch_migrations_${randomBytes(6).toString('hex')}`;
  const url = new URL(testConfig().MIGRATION_DATABASE_URL as string);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'quarry-migrations-'));
  t.context = { owner, schema, url: url.toString(), dir };

  await owner.query(sql.unsafe`CREATE SCHEMA ${sql.identifier([schema])}`);
  await withClient(url.toString(), async (client) => {
    // Nothing may land in public: check the search_path took before anything is created.
    const { rows } = await client.query<{ schemas: string }>(
      "SELECT array_to_string(current_schemas(false), ',') AS schemas",
    );
    if (rows[0]?.schemas !== schema) throw new Error(`search_path is '${rows[0]?.schemas}', not ${schema}`);
    await client.query(ledgerDefinition());
  });

  writeFileSync(path.join(dir, '1_a.sql'), 'CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);\n');
  writeFileSync(path.join(dir, '2_b.sql'), 'CREATE TABLE b (id int PRIMARY KEY);\nINSERT INTO b VALUES (2);\n');
});

test.after.always(async (t) => {
  const { owner, schema, dir } = t.context;
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (owner) {
    await owner.query(sql.unsafe`DROP SCHEMA IF EXISTS ${sql.identifier([schema])} CASCADE`);
    await owner.end();
  }
});

const Xmin = z.object({ xmin: z.string() });

function ledgerIds(context: Context): Promise<readonly number[]> {
  return context.owner.manyFirst(sql.type(z.object({ id: z.number().int() }))`
    SELECT id FROM ${sql.identifier([context.schema, 'migrations'])} ORDER BY id
  `);
}

function tableExists(context: Context, table: string): Promise<boolean> {
  return context.owner.oneFirst(sql.type(z.object({ exists: z.boolean() }))`
    SELECT to_regclass(${`${context.schema}.${table}`}) IS NOT NULL AS exists
  `);
}

test.serial('applies each migration in its own transaction, together with its ledger row', async (t) => {
  const { owner, schema, url, dir } = t.context;
  t.deepEqual(await runMigrations(url, dir), ['0_create-migrations-table.sql', '1_a.sql', '2_b.sql']);

  // A row's xmin is the transaction that wrote it: each file's table row and its ledger row
  // share one, and the two files do not share theirs.
  const xminOf = (table: string, where: number) =>
    owner.oneFirst(
      sql.type(Xmin)`SELECT xmin::text AS xmin FROM ${sql.identifier([schema, table])} WHERE id = ${where}`,
    );
  const [aRow, aLedger, bRow, bLedger] = await Promise.all([
    xminOf('a', 1),
    xminOf('migrations', 1),
    xminOf('b', 2),
    xminOf('migrations', 2),
  ]);
  t.is(aRow, aLedger);
  t.is(bRow, bLedger);
  t.not(aRow, bRow);

  const hashes = await owner.manyFirst(sql.type(z.object({ hash: z.string() }))`
    SELECT hash FROM ${sql.identifier([schema, 'migrations'])} ORDER BY id
  `);
  t.is(hashes.length, 3);
  for (const hash of hashes) t.regex(hash, /^[0-9a-f]{40}$/);
});

test.serial('a second run applies nothing', async (t) => {
  t.deepEqual(await runMigrations(t.context.url, t.context.dir), []);
  t.deepEqual(await ledgerIds(t.context), [0, 1, 2]);
});

test.serial('a failing migration leaves no table behind and is not recorded', async (t) => {
  const { url, dir } = t.context;
  const bad = path.join(dir, '3_bad.sql');
  // The CREATE TABLE succeeds; the division fails at run time, after it.
  writeFileSync(bad, 'CREATE TABLE bad (id int);\nINSERT INTO bad VALUES (1);\nSELECT 1 / 0;\n');
  try {
    const error = await t.throwsAsync(runMigrations(url, dir), {
      message: /An error occurred running 'bad'\. Rolled back this migration\..*division by zero/s,
    });
    t.false(error instanceof EditedMigrationError);
  } finally {
    unlinkSync(bad);
  }
  t.false(await tableExists(t.context, 'bad'));
  t.deepEqual(await ledgerIds(t.context), [0, 1, 2]);
});

test.serial('refuses a migration edited after it was applied, naming the file, and applies nothing', async (t) => {
  const { url, dir } = t.context;
  writeFileSync(path.join(dir, '3_c.sql'), 'CREATE TABLE c (id int);\n');
  appendFileSync(path.join(dir, '1_a.sql'), 'ALTER TABLE a ADD COLUMN note text;\n');

  const error = await t.throwsAsync(runMigrations(url, dir), { instanceOf: EditedMigrationError });
  t.is(error.files, '1_a.sql');
  t.is(
    error.message,
    'Refusing to migrate: migration 1_a.sql was edited after it was applied. ' +
      'Restore the original file and add a new migration for the change.',
  );
  t.false(await tableExists(t.context, 'c'));
  t.deepEqual(await ledgerIds(t.context), [0, 1, 2]);
});
