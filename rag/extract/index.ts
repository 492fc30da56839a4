// extractText: bytes (or a file path) in, text with located sections out. Every failure that
// retrying cannot fix is a DocumentError (unsupported, corrupt, encrypted or empty).
import { readFile } from 'node:fs/promises';
import { extractCsv } from './csv.ts';
import { detectFormat } from './detect.ts';
import type { DocumentFormat, ExtractedDocument } from './document.ts';
import { extractDocx } from './docx.ts';
import { extractEml } from './eml.ts';
import { extractHtml } from './html.ts';
import { extractJson } from './json.ts';
import { extractMarkdown } from './markdown.ts';
import { extractPdf } from './pdf.ts';
import { extractTxt } from './txt.ts';

export type ExtractInput = { readonly filename: string; readonly mimeType?: string } & (
  { readonly bytes: Uint8Array } | { readonly path: string }
);

const extractors: Record<
  DocumentFormat,
  (bytes: Uint8Array, filename: string) => ExtractedDocument | Promise<ExtractedDocument>
> = {
  txt: extractTxt,
  md: extractMarkdown,
  html: extractHtml,
  pdf: extractPdf,
  docx: extractDocx,
  csv: extractCsv,
  json: extractJson,
  eml: extractEml,
};

export async function extractText(input: ExtractInput): Promise<ExtractedDocument> {
  const bytes = 'bytes' in input ? input.bytes : await readFile(input.path);
  const format = detectFormat(bytes, input.filename, input.mimeType);
  return extractors[format](bytes, input.filename);
}

export { detectFormat } from './detect.ts';
export * from './document.ts';
