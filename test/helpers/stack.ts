// Access to the one PostgreSQL and Temporal dev server that `npm test` started for this run
// (scripts/test.ts puts their addresses in the environment). Test files never start their own.
import { randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { DatabasePool } from 'slonik';
import { loadConfig, type Config } from '../../config.ts';
import { createDatabasePool } from '../../db/pool.ts';

// Workers in tests log warnings and errors only (the runtime can be installed once per process).
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by another helper in this process
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  if (!process.env.DATABASE_URL || !process.env.TEMPORAL_ADDRESS) {
    throw new Error('Run the tests with `npm test`: it starts PostgreSQL and Temporal for the run.');
  }
  return loadConfig({ ...process.env, ...overrides });
}

/** A pool logged in as the runtime role (quarry_app: NOSUPERUSER NOBYPASSRLS). */
export function appPool(maxPoolSize = 4): Promise<DatabasePool> {
  return createDatabasePool(testConfig().DATABASE_URL as string, { maxPoolSize });
}

/** A pool logged in as the schema owner (subject to FORCE ROW LEVEL SECURITY too). */
export function ownerPool(): Promise<DatabasePool> {
  return createDatabasePool(testConfig().MIGRATION_DATABASE_URL as string, { maxPoolSize: 2 });
}

/** The workflow bundle that scripts/test.ts built once for the whole run. */
export function workflowBundlePath(): string {
  const bundle = process.env.QUARRY_WORKFLOW_BUNDLE;
  if (!bundle) throw new Error('QUARRY_WORKFLOW_BUNDLE is not set: run the tests with `npm test`.');
  return bundle;
}

/** A task queue of the test file's own, so concurrent test files never share workers. */
export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}
