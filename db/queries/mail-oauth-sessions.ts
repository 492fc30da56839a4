// OAuth sessions of the mail connection flow: one per authorization attempt, holding the SHA-256
// of its state and its sealed PKCE code verifier, single use and short-lived. Written by the API
// under the user's context; claimed by the callback, which knows no user yet, through the
// definer function mail_oauth_claim_session (migration 11).
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import type { MailOwner } from './mail-accounts.ts';

export function insertMailOAuthSession(
  tx: TenantConnection,
  owner: MailOwner,
  input: {
    id: string;
    accountId: string;
    stateHash: string;
    keyId: string;
    codeVerifierCiphertext: Buffer;
    expiresAt: Date;
  },
): Promise<void> {
  return tx
    .query(
      sql.unsafe`
      INSERT INTO mail_oauth_sessions (id, tenant_id, user_id, account_id, state_hash, key_id,
                                       code_verifier_ciphertext, expires_at)
      VALUES (${input.id}, ${owner.tenantId}, ${owner.userId}, ${input.accountId}, ${input.stateHash}, ${input.keyId},
              ${sql.binary(input.codeVerifierCiphertext)}, ${input.expiresAt.toISOString()})
    `,
    )
    .then(() => undefined);
}

const ClaimRow = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('claimed'),
    sessionId: z.uuid(),
    tenantId: z.uuid(),
    userId: z.uuid(),
    accountId: z.uuid(),
    keyId: z.string(),
    codeVerifierCiphertext: z.instanceof(Buffer),
  }),
  z.object({ outcome: z.enum(['unknown', 'used', 'expired']) }).passthrough(),
]);
export type SessionClaim = z.infer<typeof ClaimRow>;

/**
 * Claims the session whose state hashes to `stateHash`: marks it used and answers whose it is with
 * its sealed verifier, or says why not (unknown, used, expired) and changes nothing.
 */
export function claimMailOAuthSession(db: Pick<TenantConnection, 'one'>, stateHash: string): Promise<SessionClaim> {
  return db.one(sql.type(ClaimRow)`
    SELECT outcome, session_id AS "sessionId", tenant_id AS "tenantId", user_id AS "userId",
           account_id AS "accountId", key_id AS "keyId", code_verifier_ciphertext AS "codeVerifierCiphertext"
    FROM mail_oauth_claim_session(${stateHash})
  `);
}

/** Drops the account's sessions not yet used: a disconnection ends any connection under way. */
export async function deleteOpenMailOAuthSessions(tx: TenantConnection, accountId: string): Promise<void> {
  await tx.query(sql.unsafe`DELETE FROM mail_oauth_sessions WHERE account_id = ${accountId} AND used_at IS NULL`);
}
