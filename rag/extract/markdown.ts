// Markdown is kept as written, but for GFM pipe tables, whose rows become lines of "header:
// value" pairs as HTML tables' rows do (rows.ts), so that a chunk of a long table still names
// its columns. ATX headings (`## Title`) outside code fences open sections.
import { decodeText, encodingMetadata } from './decode.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';
import { firstTitle, sectionsByHeading, type HeadedLine } from './headings.ts';
import type { ExtractionLimits } from './limits.ts';
import { headedRow } from './rows.ts';

const ATX_HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(```|~~~)/;

// A cell of a GFM table's delimiter row: `---`, `:---`, `---:` or `:---:`.
const DELIMITER_CELL = /^:?-+:?$/;

/** The cells of a pipe-table row: outer pipes dropped, split at pipes not escaped as `\|`. */
function tableCells(line: string): string[] {
  let row = line.trim();
  if (row.startsWith('|')) row = row.slice(1);
  if (row.endsWith('|') && !row.endsWith('\\|')) row = row.slice(0, -1);
  return row.split(/(?<!\\)\|/).map((cell) => cell.trim().replaceAll('\\|', '|'));
}

/**
 * The GFM table starting at `start`, if one does (a header row, then a delimiter row of as many
 * cells), as one line of pairs per body row, up to a blank line or a line without a pipe; and
 * the index of the first line after it.
 */
function tableAt(lines: readonly string[], start: number): { rows: string[]; end: number } | undefined {
  const first = lines[start]!;
  const delimiter = lines[start + 1];
  // A pipe in both rows: `---` alone under a line is a setext heading or a rule.
  if (!first.includes('|') || delimiter === undefined || !delimiter.includes('|')) return undefined;
  const header = tableCells(first);
  const delimiters = tableCells(delimiter);
  if (delimiters.length !== header.length || !delimiters.every((cell) => DELIMITER_CELL.test(cell))) return undefined;
  const rows: string[] = [];
  let end = start + 2;
  for (; end < lines.length && lines[end]!.includes('|') && lines[end]!.trim() !== ''; end += 1) {
    rows.push(headedRow(tableCells(lines[end]!), (column) => header[column]));
  }
  return { rows, end };
}

export function markdownLines(markdown: string): HeadedLine[] {
  const source = markdown.split('\n');
  const lines: HeadedLine[] = [];
  let fence: string | undefined;
  for (let index = 0; index < source.length; index += 1) {
    const text = source[index]!;
    const fenceMatch = FENCE.exec(text);
    if (fenceMatch?.[1]) {
      if (fence === undefined) fence = fenceMatch[1];
      else if (fence === fenceMatch[1]) fence = undefined;
      lines.push({ text });
      continue;
    }
    const table = fence === undefined ? tableAt(source, index) : undefined;
    if (table) {
      lines.push(...table.rows.map((row) => ({ text: row })));
      index = table.end - 1;
      continue;
    }
    const heading = fence === undefined ? ATX_HEADING.exec(text) : null;
    const level = heading?.[1]?.length;
    const headingText = heading?.[2]?.replace(/[*`]/g, '').trim();
    lines.push(level && headingText ? { text, heading: { text: headingText, level } } : { text });
  }
  return lines;
}

export function extractMarkdown(
  bytes: Uint8Array,
  filename: string,
  _limits: ExtractionLimits,
  charset: string | undefined,
): ExtractedDocument {
  const decoded = decodeText(bytes, filename, 'md', { charset });
  const lines = markdownLines(decoded.text);
  return assembleDocument(filename, 'md', sectionsByHeading(lines), {
    title: firstTitle(lines),
    ...encodingMetadata(decoded),
  });
}
