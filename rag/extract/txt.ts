import { decodeUtf8 } from './decode.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';

/** Plain text: one section, decoded as UTF-8. */
export function extractTxt(bytes: Uint8Array, filename: string): ExtractedDocument {
  return assembleDocument(filename, 'txt', [{ text: decodeUtf8(bytes, filename, 'txt'), location: {} }]);
}
