// Re-seals every mail grant and live OAuth session under the current token key, in one
// transaction, as the schema owner: `npm run rotate-token-key`. The rows of every user are
// needed, and no tenant context shows them all, so the two tables drop FORCE ROW LEVEL SECURITY
// for this transaction only (as migration 7 does), which also locks them against writes until it
// commits. Only rows under another key id are touched, so a second run changes nothing.
// Deploy the new key as TOKEN_ENCRYPTION_KEY with the old one in TOKEN_ENCRYPTION_PREVIOUS_KEYS
// everywhere first; once this has run, the old key may be dropped.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { sealContext, type TokenCipher } from './token-cipher.ts';

const Bytes = z.instanceof(Buffer);
const GrantRow = z.object({ id: z.uuid(), keyId: z.string(), refresh: Bytes, access: Bytes.nullable() });
const SessionRow = z.object({ id: z.uuid(), keyId: z.string(), verifier: Bytes });

export interface RotationResult {
  readonly grants: number;
  readonly sessions: number;
}

export function rotateTokenKey(owner: DatabasePool, cipher: TokenCipher): Promise<RotationResult> {
  const current = cipher.currentKeyId;
  return owner.transaction(async (tx) => {
    for (const table of ['mail_grants', 'mail_oauth_sessions']) {
      await tx.query(sql.unsafe`ALTER TABLE ${sql.identifier([table])} NO FORCE ROW LEVEL SECURITY`);
    }
    const grants = await tx.any(sql.type(GrantRow)`
      SELECT account_id AS id, key_id AS "keyId", refresh_token_ciphertext AS refresh, access_token_ciphertext AS access
      FROM mail_grants WHERE key_id <> ${current} FOR UPDATE
    `);
    for (const grant of grants) {
      const reseal = (ciphertext: Buffer, context: string) =>
        cipher.seal(cipher.open({ keyId: grant.keyId, ciphertext }, context), context).ciphertext;
      const refresh = reseal(grant.refresh, sealContext.refreshToken(grant.id));
      const access = grant.access ? reseal(grant.access, sealContext.accessToken(grant.id)) : null;
      await tx.query(sql.unsafe`
        UPDATE mail_grants
        SET key_id = ${current}, refresh_token_ciphertext = ${sql.binary(refresh)},
            access_token_ciphertext = ${access ? sql.binary(access) : null}, updated_at = now()
        WHERE account_id = ${grant.id}
      `);
    }
    const sessions = await tx.any(sql.type(SessionRow)`
      SELECT id, key_id AS "keyId", code_verifier_ciphertext AS verifier
      FROM mail_oauth_sessions WHERE key_id IS NOT NULL AND key_id <> ${current} FOR UPDATE
    `);
    for (const session of sessions) {
      const context = sealContext.codeVerifier(session.id);
      const verifier = cipher.seal(
        cipher.open({ keyId: session.keyId, ciphertext: session.verifier }, context),
        context,
      );
      await tx.query(sql.unsafe`
        UPDATE mail_oauth_sessions SET key_id = ${current}, code_verifier_ciphertext = ${sql.binary(verifier.ciphertext)}
        WHERE id = ${session.id}
      `);
    }
    for (const table of ['mail_grants', 'mail_oauth_sessions']) {
      await tx.query(sql.unsafe`ALTER TABLE ${sql.identifier([table])} FORCE ROW LEVEL SECURITY`);
    }
    return { grants: grants.length, sessions: sessions.length };
  });
}
