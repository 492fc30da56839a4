// Login sessions. An access token names its session (`sid`), and every authenticated
// request checks here that the session is neither revoked nor expired, so logout is final.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';

export async function insertSession(
  tx: TenantConnection,
  input: { id: string; userId: string; expiresAt: Date; userAgent: string | null; ip: string | null },
): Promise<void> {
  await tx.query(sql.unsafe`
    INSERT INTO sessions (id, user_id, expires_at, user_agent, ip)
    VALUES (${input.id}, ${input.userId}, ${sql.timestamp(input.expiresAt)}, ${input.userAgent}, ${input.ip})
  `);
}

const LiveSessionRow = z.object({ isAdmin: z.boolean() });

/** The live session of this user, with their platform-admin flag read fresh; null when revoked or expired. */
export function findLiveSession(
  tx: TenantConnection,
  input: { sessionId: string; userId: string },
): Promise<z.infer<typeof LiveSessionRow> | null> {
  return tx.maybeOne(sql.type(LiveSessionRow)`
    SELECT u.is_admin AS "isAdmin"
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = ${input.sessionId} AND s.user_id = ${input.userId}
      AND s.revoked_at IS NULL AND s.expires_at > now()
  `);
}

/** Revokes a session; false when it was already revoked or is not the caller's. */
export async function revokeSession(tx: TenantConnection, sessionId: string): Promise<boolean> {
  const result = await tx.query(sql.unsafe`
    UPDATE sessions SET revoked_at = now() WHERE id = ${sessionId} AND revoked_at IS NULL
  `);
  return result.rowCount > 0;
}
