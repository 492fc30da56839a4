import { CorruptDocumentError } from '../errors.ts';
import type { DocumentFormat } from './document.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes a text format's bytes as UTF-8 (a leading BOM is dropped). Bytes that are not UTF-8,
 * or that hold NUL characters, mean a binary file under a text name: CorruptDocumentError.
 */
export function decodeUtf8(bytes: Uint8Array, filename: string, format: DocumentFormat): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw new CorruptDocumentError(filename, format, 'the file is not valid UTF-8 text', { cause: error });
  }
  if (text.includes('\u0000')) throw new CorruptDocumentError(filename, format, 'the file holds binary data');
  return text.replace(/\r\n?/g, '\n');
}
