import { decodeText, encodingMetadata } from './decode.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';
import type { ExtractionLimits } from './limits.ts';

/** Plain text: one section, in the encoding its bytes show (see decode.ts). */
export function extractTxt(
  bytes: Uint8Array,
  filename: string,
  _limits: ExtractionLimits,
  charset: string | undefined,
): ExtractedDocument {
  const decoded = decodeText(bytes, filename, 'txt', { charset });
  return assembleDocument(filename, 'txt', [{ text: decoded.text, location: {} }], encodingMetadata(decoded));
}
