// CSV through csv-parse, read as leniently as spreadsheet tools read it: a quote inside an
// unquoted field (`37°36'37.8"N`) is a character, rows may be shorter or longer than the header,
// and the delimiter is the one of comma, semicolon or tab the header line uses most (spreadsheets
// in many locales write semicolons). The first row names the columns; every later row becomes
// one line of "column: value" pairs after its row number, as a spreadsheet numbers it (the
// header is row 1), so a chunk of rows reads on its own and says where it comes from:
//   Row 2 — sku: A-100; name: Copper kettle; quantity: 12
// Only a quote that is opened and never closed still fails the document: where the row ends is
// then anyone's guess.
import { parse } from 'csv-parse/sync';
import { CorruptDocumentError } from '../errors.ts';
import { decodeText, encodingMetadata } from './decode.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';
import type { ExtractionLimits } from './limits.ts';
import { headedRow, oneLine } from './rows.ts';

const DELIMITERS = [',', ';', '\t'] as const;

/** The delimiter the first line uses most outside quotes; a comma when it uses none. */
export function sniffDelimiter(text: string): string {
  const firstLine = text.slice(0, text.indexOf('\n') === -1 ? undefined : text.indexOf('\n'));
  const unquoted = firstLine.replace(/"[^"]*"/g, '');
  const counts = DELIMITERS.map((delimiter) => unquoted.split(delimiter).length - 1);
  const best = Math.max(...counts);
  return best === 0 ? ',' : DELIMITERS[counts.indexOf(best)]!;
}

function parseRows(text: string, filename: string): string[][] {
  try {
    return parse(text, {
      delimiter: sniffDelimiter(text),
      relax_quotes: true,
      relax_column_count: true,
      // Empty lines are kept as rows, so that row numbers are the ones a spreadsheet shows.
      skip_empty_lines: false,
      trim: true,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CorruptDocumentError(filename, 'csv', reason, { cause: error });
  }
}

export function extractCsv(
  bytes: Uint8Array,
  filename: string,
  _limits: ExtractionLimits,
  charset: string | undefined,
): ExtractedDocument {
  const decoded = decodeText(bytes, filename, 'csv', { charset });
  const rows = parseRows(decoded.text, filename);
  const headerIndex = rows.findIndex((row) => row.some((cell) => cell !== ''));
  const header = (rows[headerIndex] ?? []).map(oneLine);
  const columnName = (index: number) => header[index] || `column ${index + 1}`;
  const lines: string[] = [];
  let records = 0;
  for (const [index, row] of rows.entries()) {
    if (index <= headerIndex) continue;
    const pairs = headedRow(row, columnName);
    if (pairs === '') continue;
    records += 1;
    lines.push(`Row ${index + 1} — ${pairs}`);
  }
  return assembleDocument(filename, 'csv', [{ text: lines.join('\n'), location: {} }], {
    rows: records,
    columns: header.length,
    ...encodingMetadata(decoded),
  });
}
