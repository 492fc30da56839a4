// The document fixtures under test/fixtures/documents/, with what each should yield, for the
// extractor tests here and for ingestion tests that upload every format.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config.ts';
import type { DocumentFormat, ExtractedDocument } from '../../rag/extract/document.ts';
import { extractText } from '../../rag/extract/index.ts';
import { extractionLimits } from '../../rag/extract/limits.ts';

export const documentsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'documents');

/** The extraction limits of the default configuration. */
export const defaultLimits = extractionLimits(loadConfig({}));

export function fixturePath(name: string): string {
  return path.join(documentsDir, name);
}

export function readFixture(name: string): Promise<Buffer> {
  return readFile(fixturePath(name));
}

/** Extracts a fixture with the default limits, as an upload of that name and media type would be. */
export async function extractFixture(name: string, mimeType?: string): Promise<ExtractedDocument> {
  return extractText({ bytes: await readFixture(name), filename: name, mimeType }, defaultLimits);
}

export interface FormatFixture {
  readonly format: DocumentFormat;
  readonly filename: string;
  readonly mimeType: string;
  /** A search query that should find this document. */
  readonly query: string;
  /** A phrase its extracted text contains verbatim. */
  readonly phrase: string;
}

/** One readable fixture per supported format. */
export const formatFixtures: readonly FormatFixture[] = [
  {
    format: 'txt',
    filename: 'notes.txt',
    mimeType: 'text/plain',
    query: 'lighthouse Fresnel lens',
    phrase: 'polishes the Fresnel lens',
  },
  {
    format: 'md',
    filename: 'guide.md',
    mimeType: 'text/markdown',
    query: 'sourdough starter rye flour',
    phrase: 'equal weights of rye flour',
  },
  {
    format: 'html',
    filename: 'orchard.html',
    mimeType: 'text/html',
    query: 'pruning apple trees',
    phrase: 'Prune the apple trees',
  },
  {
    format: 'pdf',
    filename: 'report.pdf',
    mimeType: 'application/pdf',
    query: 'glacier meltwater discharge',
    phrase: 'Meltwater discharge doubled',
  },
  {
    format: 'docx',
    filename: 'handbook.docx',
    mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    query: 'paid vacation days',
    phrase: 'twenty-eight days of paid vacation',
  },
  {
    format: 'csv',
    filename: 'inventory.csv',
    mimeType: 'text/csv',
    query: 'walnut cutting board',
    phrase: 'name: Walnut cutting board, large',
  },
  {
    format: 'json',
    filename: 'catalog.json',
    mimeType: 'application/json',
    query: 'jasmine pearls tea',
    phrase: 'products[1].name: Jasmine pearls',
  },
  {
    format: 'xlsx',
    filename: 'inventory-table.xlsx',
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    query: 'banana quantity',
    phrase: 'Item: 2; Type: Banana; Quantity: 200',
  },
  {
    format: 'ods',
    filename: 'number-rows-repeated.ods',
    mimeType: 'application/vnd.oasis.opendocument.spreadsheet',
    query: 'C D',
    phrase: 'A: C; B: D',
  },
  {
    format: 'pptx',
    filename: 'sample-show.pptx',
    mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    query: 'bullet points fun',
    phrase: 'It has bullet points on it',
  },
  {
    format: 'odt',
    filename: 'base-text.odt',
    mimeType: 'application/vnd.oasis.opendocument.text',
    query: 'diacritical signs',
    phrase: 'This is the last paragraph with diacritical signs: éè',
  },
  {
    format: 'rtf',
    filename: 'testRTFVarious.rtf',
    mimeType: 'application/rtf',
    query: 'numbered list footnote',
    phrase: 'Here is a numbered list:',
  },
  {
    format: 'eml',
    filename: 'budget.eml',
    mimeType: 'message/rfc822',
    query: 'analytical engine brass gears',
    phrase: 'another 300 pounds for brass gears',
  },
];

export interface FailingFixture {
  readonly filename: string;
  /** The DocumentError code extraction ends with. */
  readonly code: 'unsupported_format' | 'corrupt_document' | 'empty_document';
}

/** Fixtures that must end `failed` with a permanent reason. */
export const failingFixtures: readonly FailingFixture[] = [
  { filename: 'corrupt.pdf', code: 'corrupt_document' },
  { filename: 'corrupt.docx', code: 'corrupt_document' },
  { filename: 'testRTF-truncated.rtf', code: 'corrupt_document' },
  { filename: 'image.png', code: 'unsupported_format' },
  { filename: 'blank.txt', code: 'empty_document' },
];
