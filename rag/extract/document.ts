// The shape every extractor produces, and the one function that builds it from sections,
// so that section offsets always point into the document text exactly, and so that every
// string a document yields is one PostgreSQL can store.
import { EmptyDocumentError } from '../errors.ts';

export const DOCUMENT_FORMATS = [
  'txt',
  'md',
  'html',
  'pdf',
  'docx',
  'csv',
  'json',
  'eml',
  'xlsx',
  'ods',
  'pptx',
  'odt',
  'rtf',
] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

/** Where a piece of text sits in its source: the 1-based page (pdf) or the nearest heading. */
export interface SourceLocation {
  readonly page?: number;
  readonly heading?: string;
}

export interface DocumentSection {
  readonly text: string;
  readonly location: SourceLocation;
  /** Offsets into `ExtractedDocument.text`: `text.slice(start, end) === section.text`. */
  readonly start: number;
  readonly end: number;
}

/** Facts the source states about itself; keys are present only when known. */
export type DocumentMetadata = Readonly<Record<string, string | number>>;

export interface ExtractedDocument {
  readonly format: DocumentFormat;
  readonly text: string;
  readonly sections: readonly DocumentSection[];
  readonly metadata: DocumentMetadata;
}

export interface SectionDraft {
  readonly text: string;
  readonly location: SourceLocation;
}

const SECTION_SEPARATOR = '\n\n';

/**
 * `text` without what a PostgreSQL text or jsonb value cannot hold: NUL characters (refused
 * with SQLSTATE 22021, yet common in PDF strings and mail bodies) are dropped, and lone UTF-16
 * surrogates, which have no UTF-8 form, become U+FFFD.
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '').toWellFormed();
}

function storableLocation(location: SourceLocation): SourceLocation {
  return location.heading === undefined ? location : { ...location, heading: storableText(location.heading) };
}

/**
 * Trims each section, drops empty ones and joins the rest with a blank line; text, headings and
 * metadata are made storable first. Throws EmptyDocumentError when nothing is left, since an
 * empty document cannot be indexed.
 */
export function assembleDocument(
  filename: string,
  format: DocumentFormat,
  drafts: readonly SectionDraft[],
  metadata: Record<string, string | number | undefined> = {},
): ExtractedDocument {
  const sections: DocumentSection[] = [];
  let text = '';
  for (const draft of drafts) {
    const sectionText = storableText(draft.text).trim();
    if (sectionText === '') continue;
    if (text !== '') text += SECTION_SEPARATOR;
    sections.push({
      text: sectionText,
      location: storableLocation(draft.location),
      start: text.length,
      end: text.length + sectionText.length,
    });
    text += sectionText;
  }
  if (text === '') throw new EmptyDocumentError(filename, format);
  return { format, text, sections, metadata: definedEntries(metadata) };
}

function definedEntries(metadata: Record<string, string | number | undefined>): DocumentMetadata {
  const entries = Object.entries(metadata)
    .map(([key, value]) => [key, typeof value === 'string' ? storableText(value).trim() : value] as const)
    .filter((entry): entry is readonly [string, string | number] => entry[1] !== undefined && entry[1] !== '');
  return Object.fromEntries(entries);
}
