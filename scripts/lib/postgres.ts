// Runs a local PostgreSQL (from the pinned wheel) on its own port with its data in .local/.
// PostgreSQL refuses to run as root, so when this process is root the server runs as the
// unprivileged user `nobody`, which owns the data directory.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ProvisioningError } from './toolchain.ts';

const UNPRIVILEGED_UID = 65534;
const UNPRIVILEGED_GID = 65534;
const SUPERUSER = 'postgres';

/**
 * UTF-8 with PostgreSQL 18's builtin C.UTF-8 provider: Unicode character classes and case
 * mapping, with the C locale's stable byte order (no libc or ICU collation to change under an
 * index). LC_CTYPE is C.UTF-8 as well, because the text-search parser still asks libc what a
 * letter is; under LC_CTYPE=C it counts every non-ASCII character as one, and `“quarterly”`
 * became a single token with its quotes. (Lexical search no longer depends on it: the indexed
 * text is normalised by app_search_text, migrations/9_text_normalisation.sql.)
 */
const INITDB_LOCALE = [
  '-E',
  'UTF8',
  '--locale-provider=builtin',
  '--builtin-locale=C.UTF-8',
  '--locale=C.UTF-8',
] as const;

export interface LocalPostgres {
  readonly port: number;
  readonly superuserUrl: string;
  readonly logFile: string;
  /** The postmaster's pid (from postmaster.pid), or null when it is not running. */
  pid(): number | null;
  stop(): void;
}

function asServerUser(command: string, args: readonly string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, [...args]];
  return [
    'setpriv',
    [`--reuid=${UNPRIVILEGED_UID}`, `--regid=${UNPRIVILEGED_GID}`, '--clear-groups', '--', command, ...args],
  ];
}

function run(command: string, args: readonly string[], what: string): void {
  const [cmd, argv] = asServerUser(command, args);
  const result = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new ProvisioningError(
      `PostgreSQL ${what} failed (exit ${result.status ?? result.signal}):\n${result.stderr || result.stdout}`,
    );
  }
}

function chownTree(dir: string): void {
  if (process.getuid?.() !== 0) return;
  execFileSync('chown', ['-R', `${UNPRIVILEGED_UID}:${UNPRIVILEGED_GID}`, dir]);
}

/** Starts (initialising on first use) a PostgreSQL whose files live under `baseDir`. */
export function startPostgres(options: { pgBin: string; baseDir: string; port: number }): LocalPostgres {
  const { pgBin, baseDir, port } = options;
  const dataDir = path.join(baseDir, 'data');
  const passwordFile = path.join(baseDir, 'superuser-password');
  const logFile = path.join(baseDir, 'postgres.log');

  mkdirSync(baseDir, { recursive: true });
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();

  if (process.getuid?.() === 0) {
    chownSync(baseDir, UNPRIVILEGED_UID, UNPRIVILEGED_GID);
    const probe = spawnSync(...asServerUser('test', ['-x', path.join(pgBin, 'postgres')]));
    if (probe.status !== 0) {
      throw new ProvisioningError(
        `Running as root, PostgreSQL must run as an unprivileged user, but user nobody cannot reach ${pgBin}.\n` +
          'Clone the project into a directory every user can traverse, or run as a non-root user.',
      );
    }
  }

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const pwfile = path.join(baseDir, '.initdb-pw');
    writeFileSync(pwfile, password, { mode: 0o600 });
    chownTree(baseDir);
    try {
      run(
        path.join(pgBin, 'initdb'),
        ['-D', dataDir, '-U', SUPERUSER, '--pwfile', pwfile, '--auth=scram-sha-256', ...INITDB_LOCALE],
        'initdb',
      );
    } finally {
      spawnSync('rm', ['-f', pwfile]);
    }
  }

  const status = spawnSync(...asServerUser(path.join(pgBin, 'pg_ctl'), ['-D', dataDir, 'status']));
  if (status.status !== 0) {
    chownTree(baseDir);
    run(
      path.join(pgBin, 'pg_ctl'),
      [
        '-D',
        dataDir,
        '-l',
        logFile,
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200`,
        'start',
      ],
      `start (see ${logFile})`,
    );
  }

  return {
    port,
    superuserUrl: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    logFile,
    pid() {
      const file = path.join(dataDir, 'postmaster.pid');
      if (!existsSync(file)) return null;
      const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    },
    stop() {
      spawnSync(...asServerUser(path.join(pgBin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop']));
    },
  };
}
