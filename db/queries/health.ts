// Readiness probe: one round trip to PostgreSQL. Touches no table.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

export async function pingDatabase(db: CommonQueryMethods): Promise<void> {
  await db.oneFirst(sql.type(z.object({ ok: z.literal(1) }))`SELECT 1 AS ok`);
}
