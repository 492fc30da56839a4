// The full Content-Type of a multipart upload's file part. busboy parses a part's Content-Type
// but reports only `type/subtype` for a file, dropping its parameters (mscdex/busboy#108), so a
// `text/plain; charset=windows-1252` part would lose the charset that decoding it needs. This
// pass-through stream reads the part headers as the bytes go by to busboy, until it has seen
// the headers of as many file parts of the given field as are wanted (one for an upload, each of
// a batch's), and from then on only passes bytes on.
import { Transform, type TransformCallback } from 'node:stream';

/** busboy's own bound on one part's header block. */
const MAX_HEADER_BYTES = 16 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

/** The boundary parameter of a multipart/form-data media type, if any. */
function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '');
  return match?.[1] ?? match?.[2];
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase();
}

interface PartHeaders {
  readonly name: string | undefined;
  readonly hasFilename: boolean;
  readonly contentType: string | undefined;
}

function parseHeaders(block: string): PartHeaders {
  let name: string | undefined;
  let hasFilename = false;
  let contentType: string | undefined;
  // Folded header lines (obsolete, but busboy reads them) continue the line before.
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const field = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (field === 'content-type') contentType = value;
    else if (field === 'content-disposition') {
      name = /;\s*name\s*=\s*(?:"([^"]*)"|([^\s;]+))/i
        .exec(value)
        ?.slice(1)
        .find((part) => part !== undefined);
      hasFilename = /;\s*filename\*?\s*=/i.test(value);
    }
  }
  return { name, hasFilename, contentType };
}

/**
 * Passes a multipart/form-data body through unchanged, noting the Content-Type header (with its
 * parameters) of the first `parts` parts of field `field` that busboy takes as files: ones with
 * a file name, or of type application/octet-stream.
 */
export class FilePartType extends Transform {
  /** Each file part's Content-Type as the client wrote it, in order, once its headers have gone by. */
  readonly contentTypes: (string | undefined)[] = [];
  private readonly delimiter: Buffer | undefined;
  /** The bytes not yet searched: a delimiter or a header block may straddle two chunks. */
  private tail: Buffer;
  private header: Buffer | undefined;
  private done: boolean;

  constructor(
    requestContentType: string | undefined,
    private readonly field: string,
    private readonly parts = 1,
  ) {
    super();
    const boundary = boundaryOf(requestContentType);
    this.delimiter = boundary === undefined ? undefined : Buffer.from(`\r\n--${boundary}`, 'latin1');
    // The first delimiter opens the body without a line break before it.
    this.tail = Buffer.from('\r\n');
    this.done = this.delimiter === undefined;
  }

  /** The first file part's Content-Type as the client wrote it, once its headers have gone by. */
  get contentType(): string | undefined {
    return this.contentTypes[0];
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.done) this.scan(chunk);
    callback(null, chunk);
  }

  private scan(chunk: Buffer): void {
    const delimiter = this.delimiter!;
    let window = Buffer.concat([this.tail, chunk]);
    while (!this.done) {
      if (this.header === undefined) {
        const at = window.indexOf(delimiter);
        if (at < 0) {
          this.tail = window.subarray(Math.max(0, window.length - delimiter.length + 1));
          return;
        }
        this.header = Buffer.alloc(0);
        window = window.subarray(at + delimiter.length);
      }
      const block = Buffer.concat([this.header, window]);
      const end = block.indexOf(HEADER_END);
      if (end < 0) {
        // Past busboy's bound the part is refused anyway: look for the next one.
        this.header = block.length > MAX_HEADER_BYTES ? undefined : block;
        this.tail = this.header === undefined ? block.subarray(block.length - delimiter.length + 1) : Buffer.alloc(0);
        return;
      }
      this.header = undefined;
      // A part's header block follows its delimiter's line break; `--` after it ends the body.
      const part = parseHeaders(
        block
          .subarray(0, end)
          .toString('latin1')
          .replace(/^[^\r]*\r\n/, ''),
      );
      if (
        part.name === this.field &&
        (part.hasFilename || mediaTypeOf(part.contentType) === 'application/octet-stream')
      ) {
        this.contentTypes.push(part.contentType);
        this.done = this.contentTypes.length >= this.parts;
        if (this.done) return;
      }
      window = block.subarray(end + HEADER_END.length);
    }
  }
}
