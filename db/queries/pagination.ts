// Keyset pagination in the (created_at, id) descending order: the one paging path of every list
// query. A cursor is the position of the last row of the previous page; microseconds keep it
// exact. The API turns cursors into opaque strings (api/paging.ts).
import { sql, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';

export interface PageCursor {
  readonly createdAtMicros: number;
  readonly id: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Where the next page starts, or null on the last page. */
  readonly next: PageCursor | null;
}

/** The select-list item that gives each row its cursor position. */
const cursorColumn = sql.fragment`(extract(epoch FROM created_at) * 1000000)::int8 AS "createdAtMicros"`;

/** Rows strictly after the cursor in (created_at DESC, id DESC) order. */
function afterCursor(cursor: PageCursor) {
  return sql.fragment`
    (created_at, id) < (timestamptz 'epoch' + ${cursor.createdAtMicros} * interval '1 microsecond', ${cursor.id}::uuid)
  `;
}

/** Cuts `limit + 1` fetched rows into a page, and drops the cursor column from each row. */
function toPage<T extends { createdAtMicros: number; id: string }>(
  rows: readonly T[],
  limit: number,
): Page<Omit<T, 'createdAtMicros'>> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(({ createdAtMicros: _, ...row }) => row),
    next: rows.length > limit && last ? { createdAtMicros: last.createdAtMicros, id: last.id } : null,
  };
}

/**
 * One page of a table's rows that meet every condition, newest first, from the cursor on. The
 * table needs `created_at` and `id` columns, and an index on them (after any equality columns
 * of the conditions) to read a page without sorting the whole scope.
 */
export async function selectPage<Row extends z.ZodObject<{ id: z.ZodType<string> }>>(
  tx: TenantConnection,
  query: {
    readonly table: string;
    readonly row: Row;
    readonly columns: FragmentSqlToken;
    readonly conditions: readonly FragmentSqlToken[];
    readonly after?: PageCursor;
    readonly limit: number;
  },
): Promise<Page<z.infer<Row>>> {
  const conditions = query.after ? [...query.conditions, afterCursor(query.after)] : query.conditions;
  const rows = await tx.any(sql.type(query.row.extend({ createdAtMicros: z.number().int() }))`
    SELECT ${query.columns}, ${cursorColumn}
    FROM ${sql.identifier([query.table])}
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY created_at DESC, id DESC
    LIMIT ${query.limit + 1}
  `);
  return toPage(rows as (z.infer<Row> & { createdAtMicros: number })[], query.limit) as Page<z.infer<Row>>;
}
