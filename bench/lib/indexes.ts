// A bulk load into a fresh database, done the way an operator would do an initial import:
// the HNSW and full-text indexes of chunks are dropped first and built once afterwards
// (exactly as the migration defines them, read back from the catalog), by the schema
// owner, with enough maintenance memory for the graph to be built in memory. The DDL comes
// from the catalog as text, so it runs over a plain pg client rather than Slonik's tags.
import { withClient } from '../../scripts/lib/bootstrap.ts';

const DEFERRED = ['chunks_embedding_384_idx'];

export interface IndexBuild {
  readonly name: string;
  readonly seconds: number;
}

export async function withDeferredIndexes<T>(
  ownerUrl: string,
  load: () => Promise<T>,
): Promise<{ result: T; builds: IndexBuild[] }> {
  const definitions = await withClient(ownerUrl, async (client) => {
    const { rows } = await client.query<{ name: string; definition: string }>(
      `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
       WHERE schemaname = 'public' AND indexname = ANY($1) ORDER BY indexname`,
      [DEFERRED],
    );
    if (rows.length !== DEFERRED.length) throw new Error(`expected the indexes ${DEFERRED.join(', ')}`);
    for (const { name } of rows) await client.query(`DROP INDEX ${client.escapeIdentifier(name)}`);
    return rows;
  });
  const result = await load();
  const builds = await withClient(ownerUrl, async (client) => {
    await client.query(`SET maintenance_work_mem = '1GB'`);
    await client.query(`SET max_parallel_maintenance_workers = 2`);
    const done: IndexBuild[] = [];
    for (const { name, definition } of definitions) {
      const started = performance.now();
      await client.query(definition);
      done.push({ name, seconds: (performance.now() - started) / 1000 });
    }
    await client.query('ANALYZE chunks');
    await client.query('ANALYZE documents');
    return done;
  });
  return { result, builds };
}
