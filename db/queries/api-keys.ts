// API keys of a tenant. Only the digest of a key is stored; the visible prefix finds it.
// Authentication looks keys up by prefix before any tenant is known, through the SECURITY
// DEFINER function auth_lookup_api_key; everything else runs in the tenant's context.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import { TENANT_ROLES } from './memberships.ts';

/** The roles a key may carry (the CHECK constraint of api_keys.role): never owner. */
export const API_KEY_ROLES = ['admin', 'member', 'viewer'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export const ApiKeyRow = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  role: z.enum(API_KEY_ROLES),
  createdBy: z.uuid().nullable(),
  createdAt: z.date(),
  expiresAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
});
export type ApiKeyRow = z.infer<typeof ApiKeyRow>;

const columns = sql.fragment`
  id, name, prefix, role, created_by AS "createdBy", created_at AS "createdAt", expires_at AS "expiresAt",
  last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"
`;

export function insertApiKey(
  tx: TenantConnection,
  input: {
    id: string;
    tenantId: string;
    createdBy: string;
    name: string;
    prefix: string;
    keyHash: string;
    role: ApiKeyRole;
    expiresAt: Date | null;
  },
): Promise<ApiKeyRow> {
  return tx.one(sql.type(ApiKeyRow)`
    INSERT INTO api_keys (id, tenant_id, created_by, name, prefix, key_hash, role, expires_at)
    VALUES (${input.id}, ${input.tenantId}, ${input.createdBy}, ${input.name}, ${input.prefix}, ${input.keyHash},
            ${input.role}, ${input.expiresAt ? sql.timestamp(input.expiresAt) : null})
    RETURNING ${columns}
  `);
}

export function listApiKeys(tx: TenantConnection, tenantId: string): Promise<readonly ApiKeyRow[]> {
  return tx.any(sql.type(ApiKeyRow)`
    SELECT ${columns} FROM api_keys WHERE tenant_id = ${tenantId} ORDER BY created_at DESC, id DESC
  `);
}

export function findApiKey(tx: TenantConnection, input: { tenantId: string; id: string }): Promise<ApiKeyRow | null> {
  return tx.maybeOne(sql.type(ApiKeyRow)`
    SELECT ${columns} FROM api_keys WHERE tenant_id = ${input.tenantId} AND id = ${input.id}
  `);
}

/** Sets revoked_at; a key already revoked keeps its first revocation time. */
export async function revokeApiKey(tx: TenantConnection, input: { tenantId: string; id: string }): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
    WHERE tenant_id = ${input.tenantId} AND id = ${input.id}
  `);
}

/**
 * Records that the key was used, at most once a minute. SKIP LOCKED means concurrent
 * requests with the same key never wait on each other's row lock just to bump a timestamp.
 */
export async function touchApiKey(tx: TenantConnection, id: string): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE api_keys SET last_used_at = now()
    WHERE id = (
      SELECT id FROM api_keys
      WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
      FOR UPDATE SKIP LOCKED
    )
  `);
}

const KeyLookupRow = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  keyHash: z.string(),
  role: z.enum(API_KEY_ROLES),
  /** The creator's role in the key's tenant now; null once they left it or their account is gone. */
  creatorRole: z.enum(TENANT_ROLES).nullable(),
  expiresAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
});
export type KeyLookupRow = z.infer<typeof KeyLookupRow>;

/**
 * Authentication: the key with this visible prefix, whatever its tenant, and its creator's
 * current role there (auth_lookup_api_key).
 */
export function lookupApiKeyByPrefix(db: CommonQueryMethods, prefix: string): Promise<KeyLookupRow | null> {
  return db.maybeOne(sql.type(KeyLookupRow)`
    SELECT id, tenant_id AS "tenantId", key_hash AS "keyHash", role, creator_role AS "creatorRole",
           expires_at AS "expiresAt", revoked_at AS "revokedAt"
    FROM auth_lookup_api_key(${prefix})
  `);
}
