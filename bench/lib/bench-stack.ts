// The stack of a benchmark that puts services through outages: PostgreSQL (the pinned wheel's
// real server, stopped and started with pg_ctl) and a Temporal dev server that can be restarted
// on the same port and SQLite file, so its history survives the restart. The API and the worker
// run as processes of their own, as in production (see processes.ts).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { runMigrations } from '../../db/migrate.ts';
import { startPostgres } from '../../scripts/lib/postgres.ts';
import { freePort, startLocalPostgres } from '../../scripts/lib/stack.ts';
import { startTemporal, type LocalTemporal, type TemporalOptions } from '../../scripts/lib/temporal.ts';
import { ensureToolchain } from '../../scripts/lib/toolchain.ts';

export interface BenchStack {
  /** DATABASE_URL, MIGRATION_DATABASE_URL and TEMPORAL_ADDRESS of the stack. */
  readonly env: Record<string, string>;
  /** Stops PostgreSQL (pg_ctl stop -m fast: connections are cut, as in a crash of the service). */
  stopPostgres(): void;
  /** Starts PostgreSQL again on the same port and data directory. */
  startPostgres(): void;
  /** SIGTERM to the Temporal dev server, then starts it again on the same port and SQLite file. */
  restartTemporal(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchStack(
  dir: string,
  localDir: string,
  options: { persistTemporal: boolean },
): Promise<BenchStack> {
  mkdirSync(dir, { recursive: true });
  const log = (line: string) => console.error(line);
  const toolchain = ensureToolchain(localDir, log);
  const pgPort = await freePort();
  const database = await startLocalPostgres({ pgBin: toolchain.pgBin, dir, port: pgPort, log });
  let temporal: LocalTemporal | null = null;
  try {
    await runMigrations(database.migrationUrl);
    const temporalOptions: TemporalOptions = {
      temporalBin: toolchain.temporalBin,
      port: await freePort(),
      uiPort: null,
      dbFile: options.persistTemporal ? path.join(dir, 'temporal.db') : null,
      logFile: path.join(dir, 'temporal.log'),
      namespace: 'default',
    };
    temporal = await startTemporal(temporalOptions);
    const env = {
      DATABASE_URL: database.databaseUrl,
      MIGRATION_DATABASE_URL: database.migrationUrl,
      TEMPORAL_ADDRESS: temporal.address,
    };
    return {
      env,
      stopPostgres: () => database.postgres.stop(),
      startPostgres: () => void startPostgres({ pgBin: toolchain.pgBin, baseDir: path.join(dir, 'pg'), port: pgPort }),
      async restartTemporal() {
        if (!options.persistTemporal) throw new Error('a Temporal kept in memory would lose its history on restart');
        await temporal?.stop();
        temporal = await startTemporal(temporalOptions);
      },
      async stop() {
        await temporal?.stop();
        database.postgres.stop();
      },
    };
  } catch (error) {
    await temporal?.stop();
    database.postgres.stop();
    throw error;
  }
}
