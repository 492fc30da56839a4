// Opaque page cursors for /v1/jobs: base64url of [createdAtMicros, id], the position of the
// last job of the previous page in the (created_at, id) descending order.
import { z } from 'zod';
import type { JobCursor } from '../../../db/queries/jobs.ts';

const Payload = z.tuple([z.number().int().nonnegative(), z.uuid()]);

export function encodeCursor(cursor: JobCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAtMicros, cursor.id])).toString('base64url');
}

export function decodeCursor(value: string): JobCursor | null {
  try {
    const parsed = Payload.safeParse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    return parsed.success ? { createdAtMicros: parsed.data[0], id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}

/** The `cursor` query parameter: parses to a JobCursor, or fails validation. */
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
