// Turns a presented credential into a principal, or refuses it with 401. An access token must
// verify and name a live session of its user; an API key must match its stored digest, be
// neither revoked nor expired, and have a creator who is still a member of its tenant: it acts
// with its own role capped by the creator's current one (read in the same lookup, on every
// request, so a demotion or a removal counts at once).
import { findLiveSession } from '../../db/queries/sessions.ts';
import { lookupApiKeyByPrefix } from '../../db/queries/api-keys.ts';
import { withTenant } from '../../db/with-tenant.ts';
import type { ApiKeyPrincipal, ApiServices, UserPrincipal } from '../context.ts';
import { UnauthorizedError } from '../errors.ts';
import { apiKeyMatches, apiKeyPrefix } from './api-keys.ts';
import { cappedKeyRole } from './roles.ts';

export async function authenticateAccessToken(services: ApiServices, token: string): Promise<UserPrincipal> {
  const { userId, sessionId } = await services.tokens.verify(token);
  const session = await withTenant(services.pool, { userId }, (tx) => findLiveSession(tx, { sessionId, userId }));
  if (!session) throw new UnauthorizedError('invalid_token', 'The session has ended; sign in again');
  return { kind: 'user', userId, sessionId, isAdmin: session.isAdmin };
}

export async function authenticateApiKey(services: ApiServices, key: string): Promise<ApiKeyPrincipal> {
  const prefix = apiKeyPrefix(key);
  const row = prefix ? await lookupApiKeyByPrefix(services.pool, prefix) : null;
  if (!row || !apiKeyMatches(key, row.keyHash))
    throw new UnauthorizedError('invalid_api_key', 'The API key is not valid');
  if (row.revokedAt) throw new UnauthorizedError('invalid_api_key', 'The API key has been revoked');
  if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) {
    throw new UnauthorizedError('invalid_api_key', 'The API key has expired');
  }
  if (!row.creatorRole) {
    throw new UnauthorizedError('invalid_api_key', 'The API key’s creator is no longer a member of its tenant');
  }
  return { kind: 'apiKey', apiKeyId: row.id, tenantId: row.tenantId, role: cappedKeyRole(row.role, row.creatorRole) };
}
