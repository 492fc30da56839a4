// Finds a local model's files in its directory and checks each against its pinned sha256,
// so that no other bytes than the ones pinned in onnx-models.ts are ever run.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EmbeddingModelError } from '../errors.ts';
import type { ModelFile, OnnxModelSpec } from './onnx-models.ts';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The directory that holds a model's files: `<modelsDir>/<model name>`. */
export function modelDirectory(modelsDir: string, spec: OnnxModelSpec): string {
  return path.join(modelsDir, spec.name);
}

/** A file's bytes, once they are known to be the pinned ones. */
export function readVerified(spec: OnnxModelSpec, file: ModelFile, filePath: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(filePath);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'cannot be read';
    throw new EmbeddingModelError(spec.name, filePath, reason);
  }
  const actual = sha256(bytes);
  if (actual !== file.sha256) {
    throw new EmbeddingModelError(spec.name, filePath, `has sha256 ${actual}, not the pinned ${file.sha256}`);
  }
  return bytes;
}
