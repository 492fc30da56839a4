// Decides a file's format from its leading bytes, its extension, then its media type.
import path from 'node:path';
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
};

const PDF_MAGIC = Buffer.from('%PDF-');
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

function startsWith(bytes: Uint8Array, magic: Buffer): boolean {
  return bytes.length >= magic.length && magic.equals(bytes.subarray(0, magic.length));
}

/**
 * `%PDF-` makes a file a PDF whatever its name. Otherwise the extension decides, then the
 * media type (parameters such as `; charset=` ignored). A name saying pdf or docx over bytes
 * that are not one is corrupt; a file nothing identifies is unsupported.
 */
export function detectFormat(bytes: Uint8Array, filename: string, mimeType?: string): DocumentFormat {
  if (startsWith(bytes, PDF_MAGIC)) return 'pdf';
  const extension = path.extname(filename).toLowerCase();
  const mediaType = mimeType?.split(';')[0]?.trim().toLowerCase();
  const format = BY_EXTENSION[extension] ?? (mediaType === undefined ? undefined : BY_MIME_TYPE[mediaType]);
  if (format === undefined) throw new UnsupportedFormatError(filename, mimeType);
  if (format === 'pdf') throw new CorruptDocumentError(filename, format, 'the file does not start with %PDF-');
  if (format === 'docx' && !startsWith(bytes, ZIP_MAGIC)) {
    throw new CorruptDocumentError(filename, format, 'the file is not a ZIP package');
  }
  return format;
}
