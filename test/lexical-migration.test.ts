// Migration 10 over a database that already serves documents: in a scratch schema migrated to
// level 9 with the project's own files, documents written then (an active one with two chunks,
// a private one, one whose only version never became active) get their postings and statistics
// when migration 10 runs, and row-level security is forced on every table again afterwards.
//
// The migrations name `public` where they pin a function's search_path or qualify a table; for
// the scratch schema those names are rewritten to it, and nothing else in the files changes.
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { projectRoot } from '../config.ts';
import { withClient } from '../scripts/lib/bootstrap.ts';
import { testConfig } from './helpers/stack.ts';

const MIGRATIONS = path.join(projectRoot, 'migrations');

function migration(level: number, schema: string): string {
  const file = readdirSync(MIGRATIONS).find((name) => name.startsWith(`${level}_`));
  if (!file) throw new Error(`no migration ${level}`);
  return readFileSync(path.join(MIGRATIONS, file), 'utf8')
    .replace(/\bpublic\./g, `${schema}.`)
    .replace(/\bSCHEMA public\b/g, `SCHEMA ${schema}`)
    .replace(/search_path = pg_catalog, public, pg_temp/g, `search_path = pg_catalog, ${schema}, public, pg_temp`);
}

test('migration 10 writes the postings and statistics of what search served before it', async (t) => {
  const schema = `scratch_bm25_${randomBytes(6).toString('hex')}`;
  const ownerUrl = testConfig().MIGRATION_DATABASE_URL as string;
  await withClient(ownerUrl, (client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = new URL(ownerUrl);
  url.searchParams.set('options', `-c search_path=${schema},public`);
  const tenant = randomUUID();
  const owner = randomUUID();
  const shared = randomUUID();
  const privateDocument = randomUUID();
  const inactive = randomUUID();
  try {
    await withClient(url.toString(), async (client) => {
      for (let level = 1; level <= 9; level += 1) {
        await client.query('BEGIN');
        await client.query(migration(level, schema));
        await client.query('COMMIT');
      }
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)`, [
        tenant,
        owner,
      ]);
      await client.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
        owner,
        `${owner}@example.com`,
      ]);
      await client.query(`INSERT INTO tenants (id, name) VALUES ($1, 'Before BM25')`, [tenant]);
      const documents: [string, 'tenant' | 'private', number | null][] = [
        [shared, 'tenant', 1],
        [privateDocument, 'private', 1],
        [inactive, 'tenant', null],
      ];
      for (const [id, visibility, active] of documents) {
        await client.query(
          `INSERT INTO documents (id, tenant_id, owner_user_id, visibility, title, byte_size, content_sha256, blob_key,
                                  status, active_version)
           VALUES ($1, $2, $3, $4, 'Before', 1, encode(sha256(convert_to($6, 'UTF8')), 'hex'), $6, 'completed', $5)`,
          [id, tenant, owner, visibility, active, id],
        );
      }
      const chunks: [string, number, string][] = [
        [shared, 0, 'Granite cools slowly, so its crystals grow large.'],
        [shared, 1, 'The quarry cut granite blocks for the harbour wall.'],
        [privateDocument, 0, 'The quarry sale is confidential.'],
        [inactive, 0, 'Basalt never became searchable.'],
      ];
      for (const [documentId, ordinal, content] of chunks) {
        await client.query(
          `INSERT INTO chunks (tenant_id, document_id, version, ordinal, visibility, owner_user_id, content, start_offset, end_offset)
           SELECT tenant_id, id, 1, $2, visibility, owner_user_id, $3, 0, length($3) FROM documents WHERE id = $1`,
          [documentId, ordinal, content],
        );
      }
      await client.query('COMMIT');

      await client.query('BEGIN');
      await client.query(migration(10, schema));
      await client.query('COMMIT');

      const { rows: forced } = await client.query<{ relname: string; relforcerowsecurity: boolean }>(
        `SELECT relname, relforcerowsecurity FROM pg_class
         WHERE relnamespace = $1::regnamespace AND relname = ANY($2) ORDER BY relname`,
        [schema, ['chunks', 'documents', 'lexical_postings', 'lexical_stats']],
      );
      t.deepEqual(
        forced.map((row) => [row.relname, row.relforcerowsecurity]),
        [
          ['chunks', true],
          ['documents', true],
          ['lexical_postings', true],
          ['lexical_stats', true],
        ],
      );

      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)`, [
        tenant,
        owner,
      ]);
      const { rows: stats } = await client.query<{ scope: string; chunk_count: string; total_length: string }>(
        `SELECT coalesce(private_to::text, 'tenant') AS scope, chunk_count, total_length FROM lexical_stats
         ORDER BY private_to NULLS FIRST`,
      );
      const { rows: expected } = await client.query<{ scope: string; chunks: string; length: string }>(
        `SELECT scope, count(DISTINCT id) AS chunks, sum(tf) AS length
         FROM (SELECT CASE c.visibility WHEN 'private' THEN c.owner_user_id::text ELSE 'tenant' END AS scope,
                      c.id, cardinality(u.positions) AS tf
               FROM chunks c JOIN documents d ON d.id = c.document_id AND d.active_version = c.version,
                    unnest(c.tsv) AS u) AS terms
         GROUP BY scope ORDER BY scope = 'tenant' DESC, scope`,
      );
      t.deepEqual(
        stats.map((row) => [row.scope, Number(row.chunk_count), Number(row.total_length)]),
        expected.map((row) => [row.scope, Number(row.chunks), Number(row.length)]),
      );
      t.deepEqual(
        stats.map((row) => [row.scope, Number(row.chunk_count)]),
        [
          ['tenant', 2],
          [owner, 1],
        ],
      );
      const { rows: postings } = await client.query<{ document_id: string; terms: string[] }>(
        `SELECT c.document_id, array_agg(DISTINCT p.term ORDER BY p.term) AS terms
         FROM lexical_postings p JOIN chunks c ON c.id = p.chunk_id GROUP BY c.document_id`,
      );
      const terms = Object.fromEntries(postings.map((row) => [row.document_id, row.terms]));
      t.deepEqual(Object.keys(terms).sort(), [shared, privateDocument].sort(), 'the inactive version has none');
      t.true(terms[shared]!.includes('granit') && terms[shared]!.includes('harbour'));
      t.deepEqual(terms[privateDocument], ['confidenti', 'quarri', 'sale']);
      await client.query('COMMIT');
    });
  } finally {
    await withClient(ownerUrl, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
  }
});
