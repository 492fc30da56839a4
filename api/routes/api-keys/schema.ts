// Contracts of /v1/api-keys: create, list and revoke the API keys of the selected tenant.
import { z } from 'zod';
import { API_KEY_ROLES, ApiKeyRow } from '../../../db/queries/api-keys.ts';
import type { Contract } from '../../openapi/contract.ts';
import { serialized, Timestamp, Uuid } from '../../schemas.ts';

export const ApiKey = ApiKeyRow.extend({
  prefix: z.string().meta({ description: 'The visible start of the key, `qk_<prefix>`', example: 'qk_3f9a0c1b2d4e' }),
  createdAt: Timestamp,
  expiresAt: Timestamp.nullable(),
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
}).meta({ id: 'ApiKey', description: 'An API key, without its secret' });
export type ApiKey = z.infer<typeof ApiKey>;

export function presentApiKey(row: ApiKeyRow): ApiKey {
  return { ...serialized(row), prefix: `qk_${row.prefix}` };
}

export const CreatedApiKey = ApiKey.extend({
  key: z.string().meta({ description: 'The full key. It is shown only in this response; store it now.' }),
}).meta({ id: 'CreatedApiKey' });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const CreateApiKey = {
  summary: 'Create an API key for the selected tenant',
  description:
    'Members, admins and owners may create keys with a role no higher than their own. A key never does more ' +
    'than its creator may do now: it acts with its own role capped by the creator’s current one, and is ' +
    'refused (401) while the creator is not a member of the tenant. ' +
    'Clients send the key as `Authorization: Bearer qk_…` or `x-api-key: qk_…`.',
  body: z.object({
    name: z.string().trim().min(1).max(200),
    role: z.enum(API_KEY_ROLES),
    expiresAt: Timestamp.refine((value) => Date.parse(value) > Date.now(), 'must be in the future').optional(),
  }),
  responses: { 201: { description: 'The key, with its secret shown this once', schema: CreatedApiKey } },
} satisfies Contract;

export const ApiKeyList = z.object({ apiKeys: z.array(ApiKey) }).meta({ id: 'ApiKeyList' });
export type ApiKeyList = z.infer<typeof ApiKeyList>;

export const ListApiKeys = {
  summary: 'The API keys of the selected tenant, newest first (revoked ones included)',
  responses: { 200: { description: 'The keys, without secrets', schema: ApiKeyList } },
} satisfies Contract;

export const RevokeApiKey = {
  summary: 'Revoke an API key',
  description: 'Admins and owners may revoke any key of the tenant; others only the keys they created.',
  params: z.object({ apiKeyId: Uuid }),
  responses: { 204: { description: 'The key is revoked (revoking it again changes nothing)' } },
} satisfies Contract;
