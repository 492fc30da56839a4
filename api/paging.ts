// Paging for every list endpoint: the `limit` and `cursor` query fields, the page schema and the
// page body. A cursor is opaque to clients: base64url of [createdAtMicros, id], the position of
// the last row of the previous page in the (created_at, id) descending order that
// db/queries/pagination.ts reads. A list endpoint spreads `pageQuery` into its query schema,
// describes its answer with `pageSchema` and answers with `pageBody`.
import { z } from 'zod';
import type { Page, PageCursor } from '../db/queries/pagination.ts';

const Payload = z.tuple([z.number().int().nonnegative(), z.uuid()]);

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAtMicros, cursor.id])).toString('base64url');
}

export function decodeCursor(value: string): PageCursor | null {
  try {
    const parsed = Payload.safeParse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    return parsed.success ? { createdAtMicros: parsed.data[0], id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}

/** The `cursor` query parameter: parses to a PageCursor, or fails validation. */
export const CursorParam = z
  .string()
  .max(200)
  .transform((value, ctx) => {
    const cursor = decodeCursor(value);
    if (cursor) return cursor;
    ctx.addIssue({ code: 'custom', message: 'Not a cursor returned by a previous page' });
    return z.NEVER;
  })
  .meta({ description: 'The `nextCursor` of the previous page' });

/** The paging fields every list endpoint takes: spread them into its query schema. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: CursorParam.optional(),
};

type PageShape<Key extends string, Item extends z.ZodType> = { [K in Key]: z.ZodArray<Item> } & {
  nextCursor: z.ZodNullable<z.ZodString>;
};

/** The schema of one page of a list, named `id` in the OpenAPI document: its items under `key`. */
export function pageSchema<Key extends string, Item extends z.ZodType>(id: string, key: Key, item: Item) {
  const shape = { [key]: z.array(item), nextCursor: z.string().nullable() } as PageShape<Key, Item>;
  return z.object(shape).meta({ id, description: 'Newest first; pass nextCursor back as `cursor` for the next page' });
}

/** The body of one page: its rows under `key`, each presented, and the cursor of the next page. */
export function pageBody<Key extends string, Row, Item>(
  key: Key,
  page: Page<Row>,
  present: (row: Row) => Item,
): { [K in Key]: Item[] } & { nextCursor: string | null } {
  const items = page.items.map((row) => present(row));
  const nextCursor = page.next ? encodeCursor(page.next) : null;
  return { [key]: items, nextCursor } as { [K in Key]: Item[] } & { nextCursor: string | null };
}
