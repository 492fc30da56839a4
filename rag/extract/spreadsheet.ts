// xlsx and ods through SheetJS. Each row is indexed with the names of its sheet's header row,
// as a person reads it ("Name: Ada; City: London"), so that a chunk of rows stands on its own.
// Rows are gathered into sections of about a chunk's size, located by the sheet and the rows
// they hold ("Staff, rows 2–14"); the cells' displayed text is used (dates and numbers as
// formatted in the sheet), formulas are not evaluated but their last computed value is read.
import * as XLSX from '@e965/xlsx';
import { CorruptDocumentError, DocumentError, EncryptedDocumentError } from '../errors.ts';
import { isEncryptedOdf, openPackage } from './archive.ts';
import { assembleDocument, type ExtractedDocument, type SectionDraft } from './document.ts';
import { textTooLarge, type ExtractionLimits } from './limits.ts';

export type SpreadsheetFormat = 'xlsx' | 'ods';

/** Characters of rows gathered into one section before the next section starts. */
const SECTION_CHARACTERS = 1000;

type Row = readonly unknown[];

/** A cell's displayed text (sheet_to_json with `raw: false` gives strings), whitespace collapsed. */
function cellText(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() : '';
}

/** "Name: Ada; City: London": each non-empty cell under its header's name (its column letter if it has none). */
function rowText(row: Row, header: readonly string[], firstColumn: number): string {
  return row
    .map((value, index) => {
      const text = cellText(value);
      if (text === '') return '';
      const name = header[index] || XLSX.utils.encode_col(firstColumn + index);
      return `${name}: ${text}`;
    })
    .filter(Boolean)
    .join('; ');
}

function rowsLabel(sheet: string, first: number, last: number): string {
  return first === last ? `${sheet}, row ${first}` : `${sheet}, rows ${first}–${last}`;
}

/** The sections of one sheet: its rows under the header row, in groups of about SECTION_CHARACTERS. */
function sheetSections(name: string, sheet: XLSX.WorkSheet): SectionDraft[] {
  const ref = sheet['!ref'];
  if (!ref) return [];
  const range = XLSX.utils.decode_range(ref);
  const rows = XLSX.utils.sheet_to_json<Row>(sheet, { header: 1, raw: false, blankrows: true, defval: '' });
  const headerIndex = rows.findIndex((row) => row.some((value) => cellText(value) !== ''));
  if (headerIndex === -1) return [];
  const header = rows[headerIndex]!.map(cellText);
  const rowNumber = (index: number) => range.s.r + index + 1;
  const sections: SectionDraft[] = [];
  let lines: string[] = [];
  let first = 0;
  let last = 0;
  let characters = 0;
  const flush = () => {
    if (lines.length === 0) return;
    sections.push({ text: lines.join('\n'), location: { heading: rowsLabel(name, first, last) } });
    lines = [];
    characters = 0;
  };
  for (let index = headerIndex + 1; index < rows.length; index += 1) {
    const text = rowText(rows[index]!, header, range.s.c);
    if (text === '') continue;
    if (lines.length === 0) first = rowNumber(index);
    last = rowNumber(index);
    lines.push(text);
    characters += text.length + 1;
    if (characters >= SECTION_CHARACTERS) flush();
  }
  flush();
  if (sections.length === 0) {
    // A sheet of one row: its cells are its content, not names.
    const only = header.filter(Boolean).join('; ');
    sections.push({
      text: only,
      location: { heading: rowsLabel(name, rowNumber(headerIndex), rowNumber(headerIndex)) },
    });
  }
  return sections;
}

function readWorkbook(bytes: Uint8Array, filename: string, format: SpreadsheetFormat): XLSX.WorkBook {
  try {
    return XLSX.read(bytes, {
      type: 'buffer',
      dense: true,
      cellFormula: false,
      cellHTML: false,
      cellStyles: false,
      bookVBA: false,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (/password|encrypt/i.test(reason)) throw new EncryptedDocumentError(filename, format);
    throw new CorruptDocumentError(filename, format, reason, { cause: error });
  }
}

function extractSpreadsheet(format: SpreadsheetFormat) {
  return async (bytes: Uint8Array, filename: string, limits: ExtractionLimits): Promise<ExtractedDocument> => {
    let encrypted: boolean;
    try {
      const zip = await openPackage(bytes, filename, format, limits);
      encrypted = format === 'ods' && (await isEncryptedOdf(zip));
    } catch (error) {
      if (error instanceof DocumentError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new CorruptDocumentError(filename, format, reason, { cause: error });
    }
    if (encrypted) throw new EncryptedDocumentError(filename, format);
    const workbook = readWorkbook(bytes, filename, format);
    const sections: SectionDraft[] = [];
    let textBytes = 0;
    for (const name of workbook.SheetNames) {
      const sheet = workbook.Sheets[name];
      if (!sheet) continue;
      for (const section of sheetSections(name, sheet)) {
        textBytes += Buffer.byteLength(section.text, 'utf8');
        if (textBytes > limits.maxTextBytes) throw textTooLarge(filename, format, limits);
        sections.push(section);
      }
    }
    const props = workbook.Props;
    return assembleDocument(filename, format, sections, {
      title: props?.Title,
      author: props?.Author,
      sheets: workbook.SheetNames.length,
    });
  };
}

export const extractXlsx = extractSpreadsheet('xlsx');
export const extractOds = extractSpreadsheet('ods');
