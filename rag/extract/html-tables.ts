// An html-to-text formatter that renders a data table as rows which keep their header, so that a
// chunk cut anywhere in a long table still says what each value is:
//
//   Planets of the solar system            ← the <caption>, on a line of its own
//   Planet: Earth; Mass (kg): 5.97 × 10^24  ← one line per row, "header: value" pairs
//
// Header names come from <thead> rows and rows made only of <th>, joined with " / " where
// header rows stack (a "Mass" over "kg"); colspan and rowspan cells fill every column and row
// they cover. A table without a header row renders its rows as cells joined by " | ".
// A table holding headings or other tables is page layout, not data: its cells become blocks.
import type { DomNode, FormatCallback, RecursiveCallback } from 'html-to-text';
import { headedRow, oneLine } from './rows.ts';

// The builder's types, which @types/html-to-text declares in a module NodeNext cannot import.
type BlockTextBuilder = Parameters<FormatCallback>[2];
type TablePrinterCell = Parameters<
  NonNullable<Parameters<BlockTextBuilder['closeTable']>[0]>['tableToString']
>[0][number][number];

type RowKind = 'caption' | 'header' | 'data';

const LAYOUT_CONTENT = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table']);

const tags = (nodes: readonly DomNode[]) => nodes.filter((node) => node.type === 'tag');

function holdsLayoutContent(node: DomNode): boolean {
  return tags(node.children).some((child) => LAYOUT_CONTENT.has(child.name ?? '') || holdsLayoutContent(child));
}

/** The <tr> elements of a table with whether each sits in <thead>, and its <caption>s. */
function tableParts(table: DomNode): Array<{ node: DomNode; inHead: boolean }> {
  const parts: Array<{ node: DomNode; inHead: boolean }> = [];
  for (const child of tags(table.children)) {
    if (child.name === 'caption' || child.name === 'tr') parts.push({ node: child, inHead: false });
    else if (child.name === 'thead' || child.name === 'tbody' || child.name === 'tfoot') {
      for (const row of tags(child.children)) {
        if (row.name === 'tr') parts.push({ node: row, inHead: child.name === 'thead' });
      }
    }
  }
  return parts;
}

const cellsOf = (row: DomNode) => tags(row.children).filter((cell) => cell.name === 'th' || cell.name === 'td');
const span = (cell: DomNode, attribute: 'colspan' | 'rowspan') => {
  const attributes = cell.attribs as Readonly<Record<string, string | undefined>> | undefined;
  return Math.max(1, Math.min(1000, Number(attributes?.[attribute]) || 1));
};

/**
 * The table's rows as grids of cell texts, every column a cell, with colspan and rowspan
 * cells repeated into the places they cover.
 */
function toGrid(rows: readonly TablePrinterCell[][], kinds: readonly RowKind[]): string[][] {
  const grid: string[][] = [];
  const carried: Array<{ text: string; rows: number } | undefined> = [];
  for (const [index, cells] of rows.entries()) {
    if (kinds[index] === 'caption') {
      grid.push([oneLine(cells[0]?.text ?? '')]);
      continue;
    }
    const line: string[] = [];
    const fillCarried = () => {
      for (let held = carried[line.length]; held !== undefined && held.rows > 0; held = carried[line.length]) {
        line.push(held.text);
        held.rows -= 1;
      }
    };
    for (const cell of cells) {
      fillCarried();
      const text = oneLine(cell.text);
      for (let column = 0; column < cell.colspan; column += 1) {
        if (cell.rowspan > 1) carried[line.length] = { text, rows: cell.rowspan - 1 };
        line.push(text);
      }
    }
    fillCarried();
    grid.push(line);
  }
  return grid;
}

/** Renders the grid: captions as they are, data rows as "header: value" pairs under their header. */
function renderRows(grid: readonly string[][], kinds: readonly RowKind[]): string {
  const lines: string[] = [];
  let header: string[] = [];
  let headerOpen = false;
  for (const [index, cells] of grid.entries()) {
    const kind = kinds[index];
    if (kind === 'caption') {
      if (cells[0]) lines.push(cells[0]);
    } else if (kind === 'header') {
      // Stacked header rows name a column together; a header row after data starts afresh.
      const above = headerOpen ? header : [];
      header = Array.from({ length: Math.max(above.length, cells.length) }, (_, column) =>
        [above[column], cells[column]].filter((part, at, all) => part && all.indexOf(part) === at).join(' / '),
      );
      headerOpen = true;
    } else {
      headerOpen = false;
      const row = header.length > 0 ? headedRow(cells, (column) => header[column]) : cells.filter(Boolean).join(' | ');
      if (row !== '') lines.push(row);
    }
  }
  return lines.join('\n');
}

function formatLayoutTable(elem: DomNode, walk: RecursiveCallback, builder: BlockTextBuilder): void {
  const blocks = (nodes: readonly DomNode[]) => {
    for (const node of tags(nodes)) {
      if (node.name === 'td' || node.name === 'th' || node.name === 'caption') {
        builder.openBlock({ leadingLineBreaks: 1 });
        walk(node.children, builder);
        builder.closeBlock({ trailingLineBreaks: 1 });
      } else blocks(node.children);
    }
  };
  builder.openBlock({ leadingLineBreaks: 2 });
  blocks(elem.children);
  builder.closeBlock({ trailingLineBreaks: 2 });
}

export const formatRowTable: FormatCallback = (elem, walk, builder) => {
  if (holdsLayoutContent(elem)) {
    formatLayoutTable(elem, walk, builder);
    return;
  }
  const kinds: RowKind[] = [];
  builder.openTable();
  for (const { node, inHead } of tableParts(elem)) {
    builder.openTableRow();
    if (node.name === 'caption') {
      builder.openTableCell();
      walk(node.children, builder);
      builder.closeTableCell();
      kinds.push('caption');
    } else {
      const cells = cellsOf(node);
      for (const cell of cells) {
        builder.openTableCell();
        walk(cell.children, builder);
        builder.closeTableCell({ colspan: span(cell, 'colspan'), rowspan: span(cell, 'rowspan') });
      }
      const allHeaders = cells.length > 0 && cells.every((cell) => cell.name === 'th');
      kinds.push(inHead || allHeaders ? 'header' : 'data');
    }
    builder.closeTableRow();
  }
  builder.closeTable({
    tableToString: (rows) => renderRows(toGrid(rows, kinds), kinds),
    leadingLineBreaks: 2,
    trailingLineBreaks: 2,
  });
};
