// The OAuth grant of a mail account: its refresh and access tokens, sealed (mail/token-cipher.ts),
// the id of the key that sealed them, the scopes granted and the access token's expiry. Never
// leaves the server; the API's account answers carry none of it.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import type { MailOwner } from './mail-accounts.ts';

const Bytes = z.instanceof(Buffer);

export const MailGrantRow = z.object({
  accountId: z.uuid(),
  keyId: z.string(),
  refreshTokenCiphertext: Bytes,
  accessTokenCiphertext: Bytes.nullable(),
  accessTokenExpiresAt: z.date().nullable(),
  scopes: z.array(z.string()),
});
export type MailGrantRow = z.infer<typeof MailGrantRow>;

const columns = sql.fragment`
  account_id AS "accountId", key_id AS "keyId", refresh_token_ciphertext AS "refreshTokenCiphertext",
  access_token_ciphertext AS "accessTokenCiphertext", access_token_expires_at AS "accessTokenExpiresAt", scopes
`;

export interface SealedGrant {
  readonly keyId: string;
  readonly refreshTokenCiphertext: Buffer;
  readonly accessTokenCiphertext: Buffer | null;
  readonly accessTokenExpiresAt: Date | null;
  readonly scopes: readonly string[];
}

/** Stores the account's grant, replacing the one it had (a reconnection). */
export async function upsertMailGrant(
  tx: TenantConnection,
  owner: MailOwner,
  accountId: string,
  grant: SealedGrant,
): Promise<void> {
  const expiresAt = grant.accessTokenExpiresAt?.toISOString() ?? null;
  const access = grant.accessTokenCiphertext ? sql.binary(grant.accessTokenCiphertext) : null;
  await tx.query(sql.unsafe`
    INSERT INTO mail_grants (account_id, tenant_id, user_id, key_id, refresh_token_ciphertext,
                             access_token_ciphertext, access_token_expires_at, scopes)
    VALUES (${accountId}, ${owner.tenantId}, ${owner.userId}, ${grant.keyId}, ${sql.binary(grant.refreshTokenCiphertext)},
            ${access}, ${expiresAt}, ${sql.array([...grant.scopes], 'text')})
    ON CONFLICT (account_id) DO UPDATE
    SET key_id = EXCLUDED.key_id, refresh_token_ciphertext = EXCLUDED.refresh_token_ciphertext,
        access_token_ciphertext = EXCLUDED.access_token_ciphertext,
        access_token_expires_at = EXCLUDED.access_token_expires_at, scopes = EXCLUDED.scopes, updated_at = now()
  `);
}

export function findMailGrant(tx: TenantConnection, accountId: string): Promise<MailGrantRow | null> {
  return tx.maybeOne(sql.type(MailGrantRow)`SELECT ${columns} FROM mail_grants WHERE account_id = ${accountId}`);
}

/** Removes the account's grant; false when it had none. */
export async function deleteMailGrant(tx: TenantConnection, accountId: string): Promise<boolean> {
  const result = await tx.query(sql.unsafe`DELETE FROM mail_grants WHERE account_id = ${accountId}`);
  return result.rowCount > 0;
}
