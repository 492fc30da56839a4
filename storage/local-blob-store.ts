// The blob store as a local directory (BLOB_DIR). A key is a relative path below it. Bytes are
// staged in `.staging/` on the same file system, so committing is a rename: atomic, and a
// reader never sees a partial file. Keys are checked so that none can leave the directory.
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobNotFoundError,
  InvalidBlobKeyError,
  type BlobEntry,
  type BlobStore,
  type StagedBlob,
} from './blob-store.ts';

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const STAGING = '.staging';

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

export class LocalBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    const segments = key.split('/');
    if (!segments.every((segment) => SAFE_SEGMENT.test(segment))) throw new InvalidBlobKeyError(key);
    return path.join(this.root, ...segments);
  }

  async stage(source: Readable): Promise<StagedBlob> {
    const staging = path.join(this.root, STAGING);
    await mkdir(staging, { recursive: true });
    const tempPath = path.join(staging, randomUUID());
    const hash = createHash('sha256');
    let bytes = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    const file = createWriteStream(tempPath, { flags: 'wx' });
    try {
      await pipeline(source, measure, file);
    } catch (error) {
      // A source that failed early can beat the file's own open: wait for the file to be
      // closed before removing it, or the open would recreate it after the removal.
      if (!file.closed) await once(file, 'close').catch(() => undefined);
      await rm(tempPath, { force: true });
      throw error;
    }
    const sha256 = hash.digest('hex');
    let pending = true;
    return {
      sha256,
      bytes,
      commit: async (key) => {
        const target = this.pathOf(key);
        await mkdir(path.dirname(target), { recursive: true });
        await rename(tempPath, target);
        pending = false;
      },
      discard: async () => {
        if (pending) await rm(tempPath, { force: true });
        pending = false;
      },
    };
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const staged = await this.stage(Readable.from([bytes]));
    await staged.commit(key);
  }

  async read(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if (isMissing(error)) throw new BlobNotFoundError(key);
      throw error;
    }
  }

  async open(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    if (!(await this.exists(key))) throw new BlobNotFoundError(key);
    return createReadStream(file);
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix), { recursive: true, force: true });
  }

  async *list(prefix: string): AsyncIterable<BlobEntry> {
    const dir = this.pathOf(prefix);
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: unknown) => {
      if (isMissing(error)) return [];
      throw error;
    });
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      const info = await stat(file).catch((error: unknown) => {
        if (isMissing(error)) return null; // removed meanwhile
        throw error;
      });
      if (!info) continue;
      const key = path.relative(this.root, file).split(path.sep).join('/');
      yield { key, bytes: info.size, modifiedAt: info.mtime };
    }
  }

  async sweepStaged(olderThan: Date): Promise<number> {
    const staging = path.join(this.root, STAGING);
    const names = await readdir(staging).catch((error: unknown) => {
      if (isMissing(error)) return [];
      throw error;
    });
    let removed = 0;
    for (const name of names) {
      const file = path.join(staging, name);
      const info = await stat(file).catch(() => null);
      if (!info || info.mtime >= olderThan) continue;
      await rm(file, { force: true, recursive: true });
      removed += 1;
    }
    return removed;
  }
}
