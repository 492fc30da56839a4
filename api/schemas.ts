// Schemas shared by several routes: identifiers, the error body and the account shape, and
// serialized(), which presents a database row in its response shape. Response schemas extend
// the row schemas of db/queries, with timestamps as ISO-8601 strings, so the documented shape
// and the rows cannot drift apart.
import { z } from 'zod';
import { UserRow } from '../db/queries/users.ts';

export const Uuid = z.uuid();
export const Timestamp = z.iso.datetime();

/** Emails are compared in lower case (the users.email CHECK constraint). */
export const Email = z.string().trim().toLowerCase().pipe(z.email().max(320));

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_failed' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .meta({ id: 'Error', description: 'Every error response has this shape.' });

/** A row as it leaves in JSON: Date fields become ISO-8601 strings. */
export type Serialized<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};

/** Presents a database row in its response shape: the same fields, timestamps as ISO-8601 strings. */
export function serialized<T extends object>(row: T): Serialized<T> {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]),
  ) as Serialized<T>;
}

export const User = UserRow.extend({
  isAdmin: z.boolean().meta({ description: 'Platform admin (may trigger maintenance, sees platform jobs)' }),
  createdAt: Timestamp,
}).meta({ id: 'User' });
export type User = z.infer<typeof User>;
