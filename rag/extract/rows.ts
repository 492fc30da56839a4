// One row of a table (CSV, HTML, markdown) as one line of "column: value" pairs, so that a row
// read on its own, in any chunk, still says what each value is: `Name: Ada; City: London`.

/** A cell's text on one line: line breaks inside it (a quoted address, a <br>) become spaces. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * The non-empty cells of a row as `name: value` pairs joined by "; ", each named by `nameOf`
 * its column; a cell whose column has no name (or whose name is its own text) stands alone.
 */
export function headedRow(cells: readonly string[], nameOf: (column: number) => string | undefined): string {
  return cells
    .flatMap((cell, column) => {
      const value = oneLine(cell);
      if (value === '') return [];
      const name = nameOf(column);
      return [name && name !== value ? `${name}: ${value}` : value];
    })
    .join('; ');
}
