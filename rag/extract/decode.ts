// Turns a text format's bytes into a string. The encoding is, in this order:
//   1. the one a byte order mark names (UTF-8, UTF-16LE, UTF-16BE);
//   2. UTF-8, when the bytes are valid UTF-8 and hold multi-byte sequences: legacy text almost
//      never is, and a wrong label (UTF-8 sent as `charset=iso-8859-1`) is common;
//   3. the charset the upload's Content-Type names, then the one the document declares (an HTML
//      <meta charset> or http-equiv), as browsers take them;
//   4. UTF-8 (for ASCII without a declaration), or UTF-16 without a byte order mark;
//   5. a guess made by chardet from the bytes (windows-1252, Shift_JIS, KOI8-R…).
// A step whose encoding cannot read the bytes, or reads NUL characters out of them, gives way to
// the next. TextDecoder decodes: it knows the WHATWG Encoding Standard's labels and encodings.
import chardet from 'chardet';
import { CorruptDocumentError } from '../errors.ts';
import type { DocumentFormat } from './document.ts';

export interface DecodeHints {
  /** The `charset` parameter of the media type the file came with, if any. */
  readonly charset?: string | undefined;
  /** The encoding the document names in its own text (an HTML <meta charset>), if any. */
  readonly declared?: string | undefined;
}

export interface DecodedText {
  /** The text, line ends made `\n`, without a byte order mark. */
  readonly text: string;
  /** The WHATWG name of the encoding it was read in: `utf-8`, `windows-1252`, `utf-16le`… */
  readonly encoding: string;
}

const BOMS: ReadonlyArray<{ readonly bytes: readonly number[]; readonly encoding: string }> = [
  { bytes: [0xef, 0xbb, 0xbf], encoding: 'utf-8' },
  { bytes: [0xff, 0xfe], encoding: 'utf-16le' },
  { bytes: [0xfe, 0xff], encoding: 'utf-16be' },
];

function bomEncoding(bytes: Uint8Array): string | undefined {
  return BOMS.find(({ bytes: bom }) => bom.every((byte, index) => bytes[index] === byte))?.encoding;
}

/** The `charset` parameter of a media type: `text/html; charset="Shift_JIS"` → `Shift_JIS`. */
export function charsetOf(mimeType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(mimeType ?? '');
  return match?.[1];
}

/** The strict decoder of an encoding label, or undefined for a label TextDecoder does not know. */
function decoderFor(label: string): InstanceType<typeof TextDecoder> | undefined {
  try {
    return new TextDecoder(label.trim(), { fatal: true });
  } catch {
    return undefined;
  }
}

/** Whether `label` names an encoding TextDecoder can decode (`windows-1252`, `shift_jis`, `latin1`…). */
export function knowsCharset(label: string): boolean {
  return decoderFor(label) !== undefined;
}

/**
 * UTF-16 written without a byte order mark: in text mostly of Latin script every other byte is
 * NUL, the odd ones in little-endian order, the even ones in big-endian. Binary files have NULs
 * on both sides.
 */
function unmarkedUtf16(bytes: Uint8Array): string | undefined {
  const pairs = Math.floor(Math.min(bytes.length, 4096) / 2);
  if (pairs < 2) return undefined;
  let evenNuls = 0;
  let oddNuls = 0;
  for (let pair = 0; pair < pairs; pair += 1) {
    if (bytes[pair * 2] === 0) evenNuls += 1;
    if (bytes[pair * 2 + 1] === 0) oddNuls += 1;
  }
  if (oddNuls >= pairs * 0.4 && evenNuls <= pairs * 0.02) return 'utf-16le';
  if (evenNuls >= pairs * 0.4 && oddNuls <= pairs * 0.02) return 'utf-16be';
  return undefined;
}

/** C0 control characters other than tab, line ends, form feed and escape (ISO-2022 uses it). */
function isStrayControl(code: number): boolean {
  return (
    code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0b && code !== 0x0c && code !== 0x0d && code !== 0x1b
  );
}

/**
 * Whether text decoded in a guessed encoding is really text: binary bytes decode "successfully"
 * in any single-byte encoding, but come out full of control characters.
 */
function looksLikeText(text: string): boolean {
  let controls = 0;
  for (let index = 0; index < text.length; index += 1) if (isStrayControl(text.charCodeAt(index))) controls += 1;
  return controls <= text.length / 100;
}

function attempt(bytes: Uint8Array, label: string | undefined): DecodedText | undefined {
  const decoder = label === undefined ? undefined : decoderFor(label);
  if (decoder === undefined) return undefined;
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return undefined;
  }
  return text.includes('\u0000') ? undefined : { text, encoding: decoder.encoding };
}

/** The bytes as UTF-8 when they hold something other than ASCII and are valid UTF-8. */
function multiByteUtf8(bytes: Uint8Array): DecodedText | undefined {
  return bytes.some((byte) => byte >= 0x80) ? attempt(bytes, 'utf-8') : undefined;
}

/** The bytes chardet looks at: its recognisers take about 0.8 s a megabyte on this machine. */
const GUESS_SAMPLE_BYTES = 64 * 1024;

/**
 * chardet's candidates for the file's first 64 KiB, most confident first, as long as they
 * decode the whole file cleanly.
 */
function guess(bytes: Uint8Array): DecodedText | undefined {
  for (const candidate of chardet.analyse(bytes.subarray(0, GUESS_SAMPLE_BYTES))) {
    const decoded = attempt(bytes, candidate.name);
    if (decoded && looksLikeText(decoded.text)) return decoded;
  }
  return undefined;
}

/**
 * Decodes a text format's bytes (see the top of this file for the order). Bytes that no step
 * reads mean a binary file under a text name (or text in an encoding not known here):
 * CorruptDocumentError.
 */
export function decodeText(
  bytes: Uint8Array,
  filename: string,
  format: DocumentFormat,
  hints: DecodeHints = {},
): DecodedText {
  const decoded =
    attempt(bytes, bomEncoding(bytes)) ??
    multiByteUtf8(bytes) ??
    attempt(bytes, hints.charset) ??
    attempt(bytes, hints.declared) ??
    attempt(bytes, 'utf-8') ??
    attempt(bytes, unmarkedUtf16(bytes)) ??
    guess(bytes);
  if (decoded === undefined) {
    const reason = bytes.includes(0)
      ? 'the file holds binary data'
      : 'the file is not text in UTF-8 or in an encoding it names or shows';
    throw new CorruptDocumentError(filename, format, reason);
  }
  return { text: decoded.text.replace(/\r\n?/g, '\n'), encoding: decoded.encoding };
}

/** The metadata entry for an encoding: only one other than UTF-8 is worth stating. */
export function encodingMetadata(decoded: DecodedText): { encoding?: string } {
  return decoded.encoding === 'utf-8' ? {} : { encoding: decoded.encoding };
}
