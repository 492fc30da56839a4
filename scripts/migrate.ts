// `npm run migrate`: brings the database schema up to date, and with --search-attributes
// registers the platform's search attributes on the Temporal namespace.
//   - MIGRATION_DATABASE_URL set: migrate that database as the schema owner. With
//     DATABASE_SUPERUSER_URL as well, first create the roles, the database and pgvector
//     (passwords from QUARRY_OWNER_PASSWORD / QUARRY_APP_PASSWORD, or from the URLs).
//   - Otherwise: provision the local PostgreSQL in .local/ (as `npm run dev` does) and
//     migrate it, stopping it afterwards unless it was already running.
//   - --search-attributes with TEMPORAL_ADDRESS set: create the namespace if it is missing
//     and add the search attributes. The local dev server registers them itself at start.
// This is what the one-shot `migrate` service of docker-compose.yml runs. Exit codes:
// 0 done, 1 a step failed, 2 the settings or arguments are wrong.
import net from 'node:net';
import { ConfigurationError, loadConfig, type Config } from '../config.ts';
import { runMigrations } from '../db/migrate.ts';
import { APP_ROLE, bootstrapDatabase, OWNER_ROLE, type BootstrapOptions } from './lib/bootstrap.ts';
import { registerSearchAttributes } from './lib/search-attributes.ts';
import { startLocalPostgres } from './lib/stack.ts';
import { waitForTemporal } from './lib/temporal.ts';
import { ensureToolchain } from './lib/toolchain.ts';

export const SEARCH_ATTRIBUTES_FLAG = '--search-attributes';

/** Thrown when the settings or arguments given to `npm run migrate` cannot work together. */
export class MigrateSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrateSettingsError';
  }
}

export interface MigrationPlan {
  /** Roles, database and pgvector to create on an external server first, or null. */
  readonly bootstrap: BootstrapOptions | null;
  /** The schema owner's URL; null means the local PostgreSQL in QUARRY_LOCAL_DIR. */
  readonly migrationUrl: string | null;
  /** Where to register the search attributes, or null to leave Temporal alone. */
  readonly searchAttributes: { readonly address: string; readonly namespace: string } | null;
}

type MigrateSettings = Pick<
  Config,
  | 'DATABASE_URL'
  | 'MIGRATION_DATABASE_URL'
  | 'DATABASE_SUPERUSER_URL'
  | 'QUARRY_OWNER_PASSWORD'
  | 'QUARRY_APP_PASSWORD'
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_NAMESPACE'
>;

function role(url: URL, variable: string, expected: string): void {
  const user = decodeURIComponent(url.username);
  if (user !== expected) {
    throw new MigrateSettingsError(`${variable} logs in as "${user}", but bootstrap creates the role ${expected}`);
  }
}

function password(variable: string, explicit: string | undefined, url: URL | null, urlVariable: string): string {
  const fromUrl = url?.password ? decodeURIComponent(url.password) : undefined;
  if (explicit !== undefined && fromUrl !== undefined && explicit !== fromUrl) {
    throw new MigrateSettingsError(`${variable} differs from the password in ${urlVariable}`);
  }
  const chosen = explicit ?? fromUrl;
  if (!chosen) throw new MigrateSettingsError(`bootstrap needs ${variable}, or a password in ${urlVariable}`);
  return chosen;
}

function bootstrapPlan(settings: MigrateSettings, migrationUrl: string): BootstrapOptions {
  const owner = new URL(migrationUrl);
  const database = decodeURIComponent(owner.pathname.replace(/^\//, ''));
  if (!database) throw new MigrateSettingsError('MIGRATION_DATABASE_URL names no database');
  role(owner, 'MIGRATION_DATABASE_URL', OWNER_ROLE);

  const app = settings.DATABASE_URL ? new URL(settings.DATABASE_URL) : null;
  if (app) {
    role(app, 'DATABASE_URL', APP_ROLE);
    const appDatabase = decodeURIComponent(app.pathname.replace(/^\//, ''));
    if (appDatabase !== database) {
      throw new MigrateSettingsError(
        `DATABASE_URL names database "${appDatabase}" but MIGRATION_DATABASE_URL names "${database}"`,
      );
    }
  }
  return {
    superuserUrl: settings.DATABASE_SUPERUSER_URL as string,
    database,
    ownerPassword: password('QUARRY_OWNER_PASSWORD', settings.QUARRY_OWNER_PASSWORD, owner, 'MIGRATION_DATABASE_URL'),
    appPassword: password('QUARRY_APP_PASSWORD', settings.QUARRY_APP_PASSWORD, app, 'DATABASE_URL'),
  };
}

/** Decides what a run does, from the settings and the command-line arguments alone. */
export function planMigration(settings: MigrateSettings, args: readonly string[]): MigrationPlan {
  const unknown = args.filter((arg) => arg !== SEARCH_ATTRIBUTES_FLAG);
  if (unknown.length) {
    throw new MigrateSettingsError(
      `unknown argument ${unknown.join(' ')} (usage: migrate [${SEARCH_ATTRIBUTES_FLAG}])`,
    );
  }
  const migrationUrl = settings.MIGRATION_DATABASE_URL ?? null;
  if (!migrationUrl && settings.DATABASE_SUPERUSER_URL) {
    throw new MigrateSettingsError('DATABASE_SUPERUSER_URL is set, so MIGRATION_DATABASE_URL must be set too');
  }
  if (!migrationUrl && settings.DATABASE_URL) {
    throw new MigrateSettingsError(
      "DATABASE_URL is set but MIGRATION_DATABASE_URL is not: set it to the schema owner's URL",
    );
  }
  const wantsSearchAttributes = args.includes(SEARCH_ATTRIBUTES_FLAG) && settings.TEMPORAL_ADDRESS !== undefined;
  return {
    bootstrap: migrationUrl && settings.DATABASE_SUPERUSER_URL ? bootstrapPlan(settings, migrationUrl) : null,
    migrationUrl,
    searchAttributes: wantsSearchAttributes
      ? { address: settings.TEMPORAL_ADDRESS as string, namespace: settings.TEMPORAL_NAMESPACE }
      : null,
  };
}

/** host:port/database of a URL, without its credentials, for messages. */
function where(url: string): string {
  const { host, pathname } = new URL(url);
  return `${host}${pathname}`;
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function migrateLocal(config: Config, log: (line: string) => void): Promise<void> {
  const port = config.QUARRY_PG_PORT;
  const wasRunning = await isListening(port);
  const toolchain = ensureToolchain(config.QUARRY_LOCAL_DIR, log);
  const local = await startLocalPostgres({ pgBin: toolchain.pgBin, dir: config.QUARRY_LOCAL_DIR, port, log });
  try {
    reportApplied(await runMigrations(local.migrationUrl), where(local.migrationUrl), log);
  } finally {
    if (!wasRunning) local.postgres.stop();
  }
}

function reportApplied(applied: readonly string[], target: string, log: (line: string) => void): void {
  log(
    applied.length
      ? `quarry migrate: applied ${applied.join(', ')} to ${target}`
      : `quarry migrate: ${target} is up to date`,
  );
}

export async function main(args: readonly string[], log: (line: string) => void = console.log): Promise<number> {
  let config: Config;
  let plan: MigrationPlan;
  try {
    config = loadConfig();
    plan = planMigration(config, args);
  } catch (error) {
    if (!(error instanceof MigrateSettingsError || error instanceof ConfigurationError)) throw error;
    log(`quarry migrate: ${error.message}`);
    return 2;
  }

  try {
    if (plan.bootstrap) {
      await bootstrapDatabase(plan.bootstrap);
      log(
        `quarry migrate: database ${plan.bootstrap.database} with roles ${OWNER_ROLE} and ${APP_ROLE} ` +
          `ready on ${new URL(plan.bootstrap.superuserUrl).host}`,
      );
    }
    if (plan.migrationUrl) reportApplied(await runMigrations(plan.migrationUrl), where(plan.migrationUrl), log);
    else await migrateLocal(config, log);

    if (plan.searchAttributes) {
      const { address, namespace } = plan.searchAttributes;
      await waitForTemporal(address);
      const result = await registerSearchAttributes({ address, namespace });
      if (result.namespaceCreated) log(`quarry migrate: created Temporal namespace ${namespace}`);
      log(
        `quarry migrate: search attributes on ${address}/${namespace}: ` +
          `added [${result.added.join(', ')}], already registered [${result.existing.join(', ')}]`,
      );
    } else if (args.includes(SEARCH_ATTRIBUTES_FLAG)) {
      log('quarry migrate: TEMPORAL_ADDRESS is not set; the local Temporal dev server registers them at start');
    }
    return 0;
  } catch (error) {
    log(`quarry migrate: failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
