// /v1/api-keys: API keys of the tenant chosen with x-tenant-id. Managing keys needs a
// signed-in user: a key cannot mint or revoke keys, so a leaked key cannot outlive its revocation.
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from '../../../db/queries/api-keys.ts';
import { generateApiKey } from '../../auth/api-keys.ts';
import { roleAtLeast } from '../../auth/roles.ts';
import { audit } from '../../audit.ts';
import { tenantOf, userOf, type ApiContextExtension, type ApiState, type RouteContext } from '../../context.ts';
import { ForbiddenError, NotFoundError } from '../../errors.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { requireRole } from '../../middleware/require-role.ts';
import { requireTenant } from '../../middleware/require-tenant.ts';
import { validate } from '../../middleware/validate.ts';
import {
  CreateApiKey,
  ListApiKeys,
  presentApiKey,
  RevokeApiKey,
  type ApiKeyList,
  type CreatedApiKey,
} from './schema.ts';

export function createApiKeysRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/api-keys' });
  router.post('/', authenticate(), requireTenant(), requireRole('member'), validate(CreateApiKey), create);
  router.get('/', authenticate(), requireTenant(), validate(ListApiKeys), list);
  router.delete('/:apiKeyId', authenticate(), requireTenant(), validate(RevokeApiKey), revoke);
  return router;
}

async function create(ctx: RouteContext<typeof CreateApiKey>) {
  const { userId } = userOf(ctx);
  const { tenantId, role: callerRole, tx } = tenantOf(ctx);
  const { name, role, expiresAt } = ctx.state.input.body;
  if (!roleAtLeast(callerRole, role))
    throw new ForbiddenError(`A ${callerRole} cannot create a key with the ${role} role`);
  const { key, prefix, hash } = generateApiKey();
  const id = randomUUID();
  const row = await insertApiKey(tx, {
    id,
    tenantId,
    createdBy: userId,
    name,
    prefix,
    keyHash: hash,
    role,
    expiresAt: expiresAt ? new Date(expiresAt) : null,
  });
  await audit(ctx, tx, {
    action: 'api_key.create',
    tenantId,
    target: { type: 'api_key', id },
    details: { role, prefix },
  });
  ctx.status = 201;
  ctx.body = { ...presentApiKey(row), key } satisfies CreatedApiKey;
}

async function list(ctx: RouteContext<typeof ListApiKeys>) {
  const { tenantId, tx } = tenantOf(ctx);
  ctx.body = { apiKeys: (await listApiKeys(tx, tenantId)).map(presentApiKey) } satisfies ApiKeyList;
}

async function revoke(ctx: RouteContext<typeof RevokeApiKey>) {
  const { userId } = userOf(ctx);
  const { tenantId, role, tx } = tenantOf(ctx);
  const { apiKeyId: id } = ctx.state.input.params;
  const key = await findApiKey(tx, { tenantId, id });
  if (!key) throw new NotFoundError('API key not found');
  if (!roleAtLeast(role, 'admin') && key.createdBy !== userId) {
    throw new ForbiddenError('Only admins may revoke keys created by someone else');
  }
  if (!key.revokedAt) {
    await revokeApiKey(tx, { tenantId, id });
    await audit(ctx, tx, { action: 'api_key.revoke', tenantId, target: { type: 'api_key', id } });
  }
  ctx.status = 204;
}
