// extractText: bytes (or a file path) in, text with located sections out, within the limits
// given. Every failure that retrying cannot fix is a DocumentError (unsupported, corrupt,
// encrypted, empty or too large). To cap an extraction's memory and time as well, run it in a
// worker thread through ExtractionSandbox (sandbox.ts).
import { readFile } from 'node:fs/promises';
import { CorruptDocumentError, DocumentError, DocumentTooLargeError } from '../errors.ts';
import { charsetOf } from './decode.ts';
import { identifyFormat } from './detect.ts';
import type { DocumentFormat, ExtractedDocument } from './document.ts';
import { textTooLarge, type ExtractionLimits } from './limits.ts';

export type ExtractInput = { readonly filename: string; readonly mimeType?: string } & (
  { readonly bytes: Uint8Array } | { readonly path: string }
);

/** `charset` is the charset parameter of the file's media type, which text formats decode by. */
export type Extractor = (
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
  charset: string | undefined,
) => ExtractedDocument | Promise<ExtractedDocument>;

// Loaded on first use, so that an extraction thread loads only its own format's parser
// (pdf.js alone takes a few hundred milliseconds).
const extractors: Record<DocumentFormat, () => Promise<Extractor>> = {
  txt: async () => (await import('./txt.ts')).extractTxt,
  md: async () => (await import('./markdown.ts')).extractMarkdown,
  html: async () => (await import('./html.ts')).extractHtml,
  pdf: async () => (await import('./pdf.ts')).extractPdf,
  docx: async () => (await import('./docx.ts')).extractDocx,
  csv: async () => (await import('./csv.ts')).extractCsv,
  json: async () => (await import('./json.ts')).extractJson,
  // A mail's attachments are read by the same extractors, within the same limits.
  eml: async () => {
    const { extractEml } = await import('./eml.ts');
    return (bytes, filename, limits) => extractEml(bytes, filename, limits, extractFormat);
  },
  xlsx: async () => (await import('./spreadsheet.ts')).extractXlsx,
  ods: async () => (await import('./spreadsheet.ts')).extractOds,
  pptx: async () => (await import('./pptx.ts')).extractPptx,
  odt: async () => (await import('./odt.ts')).extractOdt,
  rtf: async () => (await import('./rtf.ts')).extractRtf,
};

export async function extractText(input: ExtractInput, limits: ExtractionLimits): Promise<ExtractedDocument> {
  const bytes = 'bytes' in input ? input.bytes : await readFile(input.path);
  const { format } = await identifyFormat(bytes, input.filename, input.mimeType);
  return extractFormat(format, bytes, input.filename, limits, charsetOf(input.mimeType));
}

/** Extracts bytes already known to be `format` (see detectFormat). */
export async function extractFormat(
  format: DocumentFormat,
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
  charset?: string,
): Promise<ExtractedDocument> {
  const extract = await extractors[format]();
  let document: ExtractedDocument;
  try {
    document = await extract(bytes, filename, limits, charset);
  } catch (error) {
    if (error instanceof DocumentError) throw error;
    // The bytes are in memory and the parsers do no I/O, so whatever a parser throws here (a
    // RangeError, a TypeError from a path its authors never met) is its verdict on these bytes,
    // and would be thrown again on every retry.
    const reason = error instanceof Error ? error.message : String(error);
    throw new CorruptDocumentError(filename, format, reason, { cause: error });
  }
  checkYield(document, filename, limits);
  return document;
}

function checkYield(document: ExtractedDocument, filename: string, limits: ExtractionLimits): void {
  if (document.sections.length > limits.maxSections) {
    throw new DocumentTooLargeError(
      filename,
      document.format,
      'maxSections',
      `it has more than ${limits.maxSections} sections`,
    );
  }
  if (Buffer.byteLength(document.text, 'utf8') > limits.maxTextBytes) {
    throw textTooLarge(filename, document.format, limits);
  }
}

export { detectFormat, identifyFormat, type IdentifiedFormat } from './detect.ts';
export * from './document.ts';
export { extractionLimits, type ExtractionLimits } from './limits.ts';
