// Where uploaded originals and derived artefacts (extracted text) live. A blob is written in
// two steps: stage() streams the bytes to a private temporary place while hashing them, so
// that the final key may depend on the content; then the staged blob is committed under its
// key (atomically: readers never see a partial blob) or discarded. Locally this is a
// directory (local-blob-store.ts); in production an S3-compatible bucket would implement it.
import type { Readable } from 'node:stream';

export interface StagedBlob {
  readonly sha256: string;
  readonly bytes: number;
  /** Moves the staged bytes under `key`, replacing any blob there. */
  commit(key: string): Promise<void>;
  /** Removes the staged bytes; safe to call more than once, and after commit (then a no-op). */
  discard(): Promise<void>;
}

/** One stored blob, as list() reports it. */
export interface BlobEntry {
  readonly key: string;
  readonly bytes: number;
  readonly modifiedAt: Date;
}

export interface BlobStore {
  /** Streams `source` into a staged blob; the bytes are never held in memory as a whole. */
  stage(source: Readable): Promise<StagedBlob>;
  /** Writes a small blob at once (stage and commit). */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Reads a whole blob. */
  read(key: string): Promise<Buffer>;
  /** Streams a blob. */
  open(key: string): Promise<Readable>;
  /** Whether a blob exists under `key`. */
  exists(key: string): Promise<boolean>;
  /** Removes one blob; a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every blob whose key starts with `prefix/`. */
  deletePrefix(prefix: string): Promise<void>;
  /** Every blob whose key starts with `prefix/`, in no particular order. */
  list(prefix: string): AsyncIterable<BlobEntry>;
  /**
   * Removes staged bytes never committed nor discarded (a process that died mid-upload) that
   * are older than `olderThan`; answers how many it removed.
   */
  sweepStaged(olderThan: Date): Promise<number>;
}

/** Thrown when a blob is read that does not exist. */
export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`No blob is stored under ${key}`);
    this.name = 'BlobNotFoundError';
  }
}

/** Thrown when a key is not a relative path of safe segments (no `..`, no absolute paths). */
export class InvalidBlobKeyError extends Error {
  constructor(readonly key: string) {
    super(`Not a valid blob key: ${JSON.stringify(key)}`);
    this.name = 'InvalidBlobKeyError';
  }
}
