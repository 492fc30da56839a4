// Migration 9 over rows written before it: in a scratch schema holding the chunks table's text
// columns as migration 3 made them, words the old `tsv` lost (a ligature, a word hyphenated across
// a line, a word inside a run of Japanese) are found once the migration has re-added it. The
// words beside curly quotes are lost only under a C locale, which this cluster no longer has.
// And the embedded cluster is UTF-8 throughout.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { projectRoot } from '../config.ts';
import { withClient } from '../scripts/lib/bootstrap.ts';
import { testConfig } from './helpers/stack.ts';

const MIGRATION = readFileSync(path.join(projectRoot, 'migrations', '9_text_normalisation.sql'), 'utf8');

const ROWS = [
  [1, 'The “quarterly” ﬁnance figures were approved—unanimously on Sunday’s call. Morbi tris-\ntique.'],
  [2, 'すみません。採石場は休みです。'],
  [3, 'Plain granite, as before.'],
] as const;

test('rows indexed before migration 9 are found by the new lexical query after it, as english chunks', async (t) => {
  const schema = `scratch_text_${randomBytes(6).toString('hex')}`;
  const url = new URL(testConfig().MIGRATION_DATABASE_URL as string);
  await withClient(url.toString(), (client) => client.query(`CREATE SCHEMA ${schema}`));
  url.searchParams.set('options', `-c search_path=${schema}`);
  try {
    await withClient(url.toString(), async (client) => {
      await client.query(`
        CREATE TABLE chunks (
          id      integer PRIMARY KEY,
          content text NOT NULL,
          tsv     tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED
        );
        CREATE INDEX chunks_tsv_idx ON chunks USING gin (tsv);
      `);
      for (const [id, content] of ROWS) await client.query('INSERT INTO chunks VALUES ($1, $2)', [id, content]);
      const found = async (query: string, normalise: boolean) => {
        const text = normalise ? 'app_search_text($1)' : '$1';
        const { rows } = await client.query<{ id: number }>(
          `SELECT id FROM chunks WHERE tsv @@ websearch_to_tsquery('english', ${text}) ORDER BY id`,
          [query],
        );
        return rows.map((row) => row.id);
      };
      // Before: these words cannot be found; plain ones can.
      for (const query of ['finance', 'tristique', '採石場']) t.deepEqual(await found(query, false), [], query);
      t.deepEqual(await found('granite', false), [3]);

      await client.query(MIGRATION);

      for (const query of ['finance', 'tristique', 'quarterly', 'unanimously', 'Sunday', 'approve']) {
        t.deepEqual(await found(query, true), [1], query);
      }
      t.deepEqual(await found('採石場', true), [2]);
      t.deepEqual(await found('すみません', true), [2]);
      t.deepEqual(await found('granite', true), [3]);
      const { rows } = await client.query<{ header: string | null; ts_config: string }>(
        'SELECT DISTINCT header, ts_config FROM chunks',
      );
      t.deepEqual(rows, [{ header: null, ts_config: 'english' }]);
      const index = await client.query('SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2', [
        schema,
        'chunks_tsv_idx',
      ]);
      t.is(index.rowCount, 1);
    });
  } finally {
    await withClient(testConfig().MIGRATION_DATABASE_URL as string, (client) =>
      client.query(`DROP SCHEMA ${schema} CASCADE`),
    );
  }
});

test('the embedded cluster is UTF-8 with the builtin C.UTF-8 provider, so the parser knows Unicode letters', async (t) => {
  await withClient(testConfig().MIGRATION_DATABASE_URL as string, async (client) => {
    const { rows } = await client.query(`
      SELECT pg_encoding_to_char(encoding) AS encoding, datlocprovider AS provider, datlocale AS locale,
             datctype AS ctype, to_tsvector('simple', '“quarterly”')::text AS tsv
      FROM pg_database WHERE datname = current_database()
    `);
    t.deepEqual(rows, [{ encoding: 'UTF8', provider: 'b', locale: 'C.UTF-8', ctype: 'C.UTF-8', tsv: "'quarterly':1" }]);
  });
});
