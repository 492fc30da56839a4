// Decides a file's format from its leading bytes, its extension, then its media type.
//
// The bytes are judged by file-type (magic numbers, and the entries of a ZIP package), so that
// what a client claims cannot make Quarry store a PDF as text or index an RTF as raw markup
// (an RTF named .txt is read as RTF). Text formats (txt, md, html, csv, json, eml) have no
// magic: for them the extension and the media type decide, as before.
import path from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import { CorruptDocumentError, UnsupportedFormatError } from '../errors.ts';
import type { DocumentFormat } from './document.ts';

const BY_EXTENSION: Readonly<Record<string, DocumentFormat>> = {
  '.txt': 'txt',
  '.text': 'txt',
  '.log': 'txt',
  '.md': 'md',
  '.markdown': 'md',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.pdf': 'pdf',
  '.docx': 'docx',
  '.csv': 'csv',
  '.json': 'json',
  '.eml': 'eml',
  '.xlsx': 'xlsx',
  '.ods': 'ods',
  '.pptx': 'pptx',
  '.odt': 'odt',
  '.rtf': 'rtf',
};

const BY_MIME_TYPE: Readonly<Record<string, DocumentFormat>> = {
  'text/plain': 'txt',
  'text/markdown': 'md',
  'text/x-markdown': 'md',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'text/csv': 'csv',
  'application/json': 'json',
  'message/rfc822': 'eml',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'application/vnd.oasis.opendocument.text': 'odt',
  'application/rtf': 'rtf',
  'text/rtf': 'rtf',
};

/** The media type a document of each format is stored and served with, when the client's says otherwise. */
const MEDIA_TYPE: Readonly<Record<DocumentFormat, string>> = {
  txt: 'text/plain',
  md: 'text/markdown',
  html: 'text/html',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  csv: 'text/csv',
  json: 'application/json',
  eml: 'message/rfc822',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  rtf: 'application/rtf',
};

/** The formats whose files are ZIP packages: a ZIP that file-type cannot place may still be one. */
const ZIP_PACKAGES: ReadonlySet<DocumentFormat> = new Set(['docx', 'xlsx', 'ods', 'pptx', 'odt']);

/** The formats read as text, which have no magic number of their own. */
const TEXT_FORMATS: ReadonlySet<DocumentFormat> = new Set(['txt', 'md', 'html', 'csv', 'json', 'eml']);

/** Whether a format is read as text, and so decoded by the charset its media type declares. */
export function isTextFormat(format: DocumentFormat): boolean {
  return TEXT_FORMATS.has(format);
}

/**
 * What file-type finds at the start of some text files (an XML prolog, a calendar, a
 * subtitle file): under a text format's name such a file is read as that text format.
 */
const TEXT_SIGNATURES: ReadonlySet<string> = new Set(['xml', 'ics', 'vcf', 'vtt', 'reg']);

/**
 * Whether the bytes read as text: no NUL, and hardly any other control character (tab, line
 * and page breaks and ESC, which ISO-2022 uses, are text). Short signatures match text too
 * ("BM" opens a bitmap and "BMI-1 is overexpressed…" alike), but a binary file has NULs and
 * control bytes among its first bytes.
 */
function looksLikeText(bytes: Uint8Array): boolean {
  let controls = 0;
  for (const byte of bytes) {
    if (byte === 0) return false;
    if (
      byte < 0x20 &&
      byte !== 0x09 &&
      byte !== 0x0a &&
      byte !== 0x0b &&
      byte !== 0x0c &&
      byte !== 0x0d &&
      byte !== 0x1b
    ) {
      controls += 1;
    }
  }
  return controls <= bytes.length / 100;
}

/** How many leading bytes are enough to judge a file (file-type reads into ZIP packages). */
export const SNIFF_BYTES = 64 * 1024;

/** The type the bytes themselves show, as file-type names it. */
export interface SniffedType {
  readonly ext: string;
  readonly mime: string;
}

/** file-type's verdict on the first SNIFF_BYTES of `bytes`; undefined when no signature matches. */
export async function sniffType(bytes: Uint8Array): Promise<SniffedType | undefined> {
  const found = await fileTypeFromBuffer(bytes.subarray(0, SNIFF_BYTES));
  return found && { ext: found.ext, mime: found.mime };
}

const PDF_MAGIC = Buffer.from('%PDF-');
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

function startsWith(bytes: Uint8Array, magic: Buffer): boolean {
  return bytes.length >= magic.length && magic.equals(bytes.subarray(0, magic.length));
}

function mediaTypeOf(mimeType: string | undefined): string | undefined {
  return mimeType?.split(';')[0]?.trim().toLowerCase();
}

/**
 * `%PDF-` makes a file a PDF whatever its name, and so do the bytes of any other format with a
 * signature (`sniffed`, from sniffType). A signature of a format Quarry does not read (an
 * image, an executable, an archive) makes the file unsupported whatever its name, except a
 * text signature, or bytes that read as text, under a text format's name, and a
 * ZIP under a ZIP package's name (whose extractor judges it). Otherwise the extension decides, then the media type (parameters such
 * as `; charset=` ignored). A name saying pdf or a ZIP package over bytes that are not one is corrupt; a
 * file nothing identifies is unsupported.
 */
export function detectFormat(
  bytes: Uint8Array,
  filename: string,
  mimeType?: string,
  sniffed?: SniffedType,
): DocumentFormat {
  if (startsWith(bytes, PDF_MAGIC)) return 'pdf';
  const extension = path.extname(filename).toLowerCase();
  const mediaType = mediaTypeOf(mimeType);
  const claimed = BY_EXTENSION[extension] ?? (mediaType === undefined ? undefined : BY_MIME_TYPE[mediaType]);
  if (sniffed) {
    const shown = BY_MIME_TYPE[sniffed.mime];
    if (shown !== undefined && !TEXT_FORMATS.has(shown)) return shown;
    const readAsClaimed =
      claimed !== undefined &&
      ((TEXT_FORMATS.has(claimed) &&
        (TEXT_SIGNATURES.has(sniffed.ext) || looksLikeText(bytes.subarray(0, SNIFF_BYTES)))) ||
        (ZIP_PACKAGES.has(claimed) && sniffed.ext === 'zip'));
    if (!readAsClaimed) throw new UnsupportedFormatError(filename, mimeType, sniffed.mime);
  }
  if (claimed === undefined) throw new UnsupportedFormatError(filename, mimeType);
  if (claimed === 'pdf') throw new CorruptDocumentError(filename, claimed, 'the file does not start with %PDF-');
  if (ZIP_PACKAGES.has(claimed) && !startsWith(bytes, ZIP_MAGIC)) {
    throw new CorruptDocumentError(filename, claimed, 'the file is not a ZIP package');
  }
  return claimed;
}

/** A file's format, and the media type to store and serve it with. */
export interface IdentifiedFormat {
  readonly format: DocumentFormat;
  /** The client's media type when it names this format (its parameters kept), else the format's own. */
  readonly mediaType: string;
}

/** detectFormat, with the bytes sniffed first (only the first SNIFF_BYTES of them are read). */
export async function identifyFormat(
  bytes: Uint8Array,
  filename: string,
  mimeType?: string,
): Promise<IdentifiedFormat> {
  const format = detectFormat(bytes, filename, mimeType, await sniffType(bytes));
  const declared = mediaTypeOf(mimeType);
  const mediaType = declared !== undefined && BY_MIME_TYPE[declared] === format ? mimeType! : MEDIA_TYPE[format];
  return { format, mediaType };
}
