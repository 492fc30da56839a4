// CSV through csv-parse: the first row names the columns and every later row becomes a block
// of "column: value" lines, so a chunk of rows reads on its own. Blank lines separate rows.
import { parse } from 'csv-parse/sync';
import { CorruptDocumentError } from '../errors.ts';
import { decodeText, encodingMetadata } from './decode.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';
import type { ExtractionLimits } from './limits.ts';

export function extractCsv(
  bytes: Uint8Array,
  filename: string,
  _limits: ExtractionLimits,
  charset: string | undefined,
): ExtractedDocument {
  const decoded = decodeText(bytes, filename, 'csv', { charset });
  let rows: string[][];
  try {
    rows = parse(decoded.text, {
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CorruptDocumentError(filename, 'csv', reason, { cause: error });
  }
  const [header = [], ...records] = rows;
  const columnName = (index: number) => header[index] || `column ${index + 1}`;
  const blocks = records.map((record) =>
    record.flatMap((value, index) => (value === '' ? [] : [`${columnName(index)}: ${value}`])).join('\n'),
  );
  return assembleDocument(filename, 'csv', [{ text: blocks.filter(Boolean).join('\n\n'), location: {} }], {
    rows: records.length,
    columns: header.length,
    ...encodingMetadata(decoded),
  });
}
