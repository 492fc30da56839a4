// Reads a multipart/form-data upload with busboy: the `file` part streams into the blob store
// (hashed on the way, never held in memory) and the other parts are collected as fields. Past
// the size limit busboy stops keeping the file and drains the rest of the request, so the
// client still reads the 413; the partial blob is removed.
//
// A body that ends inside a part makes busboy destroy that part's stream with an error. An
// 'error' event with no listener takes the whole process down, so every part stream gets
// one synchronously, in the 'file' callback itself, before anything is awaited.
//
// The file's first bytes are held back until `identify` has judged them (what the client says
// about a file is not trusted): a file it refuses is drained without being stored, and the
// refusal is the answer.
//
// busboy reports a file part's media type without its parameters; the body passes through
// FilePartType on its way to busboy, which keeps the part's whole Content-Type, so that the
// charset a text file is declared in reaches its extraction.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { BlobStore, StagedBlob } from '../../../storage/blob-store.ts';
import { BadRequestError, PayloadTooLargeError, ValidationError } from '../../errors.ts';
import { FilePartType } from './part-type.ts';

export interface ReceivedFile {
  readonly blob: StagedBlob;
  readonly filename: string | null;
  readonly mimeType: string | null;
}

export interface ReceivedUpload {
  readonly file: ReceivedFile;
  /** Every other part, by name, in the order sent (a name may repeat). */
  readonly fields: Readonly<Record<string, readonly string[]>>;
}

/** What the client said about its file. */
export interface DeclaredFile {
  readonly filename: string | null;
  readonly mimeType: string | null;
}

/**
 * Judges a file by its first `headBytes` bytes (all of them when it is shorter) and what the
 * client said: answers the media type to store it with, or throws to refuse it.
 */
export interface FileIdentifier {
  readonly headBytes: number;
  identify(head: Uint8Array, declared: DeclaredFile): Promise<string | null>;
}

const FILE_FIELD = 'file';
const LIMITS = { fields: 50, fieldSize: 64 * 1024 };

// C0 controls (NUL among them, which PostgreSQL text cannot hold) and DEL.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_CHARACTERS_ALL = /[\u0000-\u001f\u007f]/g;

/** The most of a declared media type that is kept (a documents.mime_type is shown and served). */
const MEDIA_TYPE_MAX_LENGTH = 255;

/**
 * The media type the client declared for its file: the part's whole Content-Type (parameters
 * such as `charset` kept) when it is the type busboy read, short enough and free of control
 * characters; else busboy's `type/subtype`; null for none.
 */
function declaredType(busboyType: string | undefined, written: string | undefined): string | null {
  if (!busboyType || CONTROL_CHARACTERS.test(busboyType)) return null;
  const whole = written?.trim();
  const sameType = whole?.split(';')[0]?.trim().toLowerCase() === busboyType.toLowerCase();
  if (whole && sameType && whole.length <= MEDIA_TYPE_MAX_LENGTH && !CONTROL_CHARACTERS.test(whole)) return whole;
  return busboyType;
}

/**
 * A file name as the client's file system gave it, kept as far as it can be stored: NFC, and
 * without control characters. Null when nothing is left.
 */
export function cleanFilename(filename: string | undefined): string | null {
  const cleaned = (filename ?? '').normalize('NFC').replace(CONTROL_CHARACTERS_ALL, '').trim();
  return cleaned === '' ? null : cleaned;
}

type Verdict = { readonly mimeType: string | null } | { readonly refusal: unknown };

/**
 * The part's bytes, streamed on once `identifier` has judged the head; a refused file yields
 * nothing, but is still read to its end, so that busboy goes on to the rest of the request.
 */
function identified(
  stream: Readable,
  declared: DeclaredFile,
  identifier: FileIdentifier,
  onVerdict: (verdict: Verdict) => void,
): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    let held: Buffer[] | null = [];
    let heldBytes = 0;
    let refused = false;
    const judge = async (head: Buffer[]) => {
      try {
        onVerdict({ mimeType: await identifier.identify(Buffer.concat(head), declared) });
      } catch (refusal) {
        onVerdict({ refusal });
        refused = true;
      }
    };
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (held === null) {
        if (!refused) yield chunk;
        continue;
      }
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < identifier.headBytes) continue;
      const head = held;
      held = null;
      await judge(head);
      if (!refused) yield* head;
    }
    if (held !== null) {
      await judge(held);
      if (!refused) yield* held;
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}

function invalid(reason: string): BadRequestError {
  return new BadRequestError('invalid_multipart', `The multipart body could not be read: ${reason}`);
}

/** One file part of a batch: staged, or refused with the error a single upload would answer. */
export type FilePart =
  | { readonly file: ReceivedFile; readonly refusal?: undefined }
  | { readonly file?: undefined; readonly declared: DeclaredFile; readonly refusal: unknown };

interface StagedPart extends ReceivedFile {
  readonly truncated: boolean;
  readonly verdict: Verdict | undefined;
}

/**
 * Reads the body's `file` parts (up to `maxFiles`; more is 400 `too_many_files`) into staged
 * blobs, one after the other as they arrive, and the other parts as fields.
 */
async function receiveParts(
  request: IncomingMessage,
  options: { blobs: BlobStore; limitBytes: number; identifier?: FileIdentifier; maxFiles: number },
): Promise<{ parts: Promise<StagedPart>[]; fields: Record<string, string[]>; tooMany: boolean }> {
  let parser: busboy.Busboy;
  try {
    // busboy marks a file truncated once it reaches fileSize, so one byte more tells "over the limit".
    parser = busboy({
      headers: request.headers,
      limits: { ...LIMITS, fileSize: options.limitBytes + 1 },
      // RFC 7578 filenames are UTF-8; busboy's default, latin1, turns them into mojibake.
      defParamCharset: 'utf8',
    });
  } catch (error) {
    throw invalid((error as Error).message);
  }
  const partType = new FilePartType(request.headers['content-type'], FILE_FIELD, options.maxFiles);
  const fields: Record<string, string[]> = {};
  const parts: Promise<StagedPart>[] = [];
  let tooMany = false;
  parser.on('field', (name, value) => (fields[name] ??= []).push(value));
  parser.on('file', (name, stream, info) => {
    // The failure also reaches the parser (and so pipeline() below) or the staging promise.
    stream.on('error', () => undefined);
    if (name !== FILE_FIELD || parts.length >= options.maxFiles) {
      if (name === FILE_FIELD) tooMany = true;
      stream.resume();
      return;
    }
    const declared: DeclaredFile = {
      filename: cleanFilename(info.filename),
      mimeType: declaredType(info.mimeType, partType.contentTypes[parts.length]),
    };
    let verdict: Verdict | undefined;
    const source = options.identifier
      ? identified(stream, declared, options.identifier, (given) => (verdict = given))
      : stream;
    const staged = options.blobs.stage(source).then((blob) => ({
      blob,
      ...declared,
      truncated: stream.truncated === true,
      verdict,
    }));
    // Awaited below; until then a failure must not count as unhandled.
    staged.catch(() => undefined);
    parts.push(staged);
  });

  try {
    await pipeline(request, partType, parser);
  } catch (error) {
    await discardAll(parts);
    throw invalid((error as Error).message);
  }
  return { parts, fields, tooMany };
}

async function discardAll(parts: readonly Promise<StagedPart>[]): Promise<void> {
  await Promise.all(parts.map((part) => part.then((file) => file.blob.discard()).catch(() => undefined)));
}

/** A staged part as received, or why it is refused (its blob then discarded). */
async function settlePart(part: StagedPart, limitBytes: number): Promise<FilePart> {
  const { truncated, verdict, ...file } = part;
  const declared = { filename: file.filename, mimeType: file.mimeType };
  if (verdict && 'refusal' in verdict) {
    await file.blob.discard();
    return { declared, refusal: verdict.refusal };
  }
  if (truncated) {
    await file.blob.discard();
    return { declared, refusal: new PayloadTooLargeError(limitBytes) };
  }
  return { file: verdict ? { ...file, mimeType: verdict.mimeType } : file };
}

export async function receiveUpload(
  request: IncomingMessage,
  options: { blobs: BlobStore; limitBytes: number; identifier?: FileIdentifier },
): Promise<ReceivedUpload> {
  const { parts, fields } = await receiveParts(request, { ...options, maxFiles: 1 });
  const [staging] = parts;
  if (!staging) throw new ValidationError([{ path: 'body.file', message: 'A file is required', code: 'required' }]);
  const part = await settlePart(await staging, options.limitBytes);
  if (!part.file) throw part.refusal;
  return { file: part.file, fields };
}

/**
 * Reads a batch: every `file` part staged (each within `limitBytes`, each judged by
 * `identifier` on its own: a refused file is reported, the others go on), and the fields.
 * More than `maxFiles` files is 400 `too_many_files`, and nothing is kept.
 */
export async function receiveBatch(
  request: IncomingMessage,
  options: { blobs: BlobStore; limitBytes: number; identifier?: FileIdentifier; maxFiles: number },
): Promise<{ files: FilePart[]; fields: Readonly<Record<string, readonly string[]>> }> {
  const { parts, fields, tooMany } = await receiveParts(request, options);
  if (tooMany) {
    await discardAll(parts);
    throw new BadRequestError('too_many_files', `A batch holds at most ${options.maxFiles} files`);
  }
  if (parts.length === 0) {
    throw new ValidationError([{ path: 'body.file', message: 'At least one file is required', code: 'required' }]);
  }
  const files: FilePart[] = [];
  try {
    for (const part of parts) files.push(await settlePart(await part, options.limitBytes));
  } catch (error) {
    await discardAll(parts);
    throw error;
  }
  return { files, fields };
}
