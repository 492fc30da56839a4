// /v1/tenants: create a tenant (its creator becomes the owner), list mine.
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import { insertMembership } from '../../../db/queries/memberships.ts';
import { insertTenant, listMyTenants } from '../../../db/queries/tenants.ts';
import { withTenant } from '../../../db/with-tenant.ts';
import { audit } from '../../audit.ts';
import { userOf, type ApiContextExtension, type ApiState, type RouteContext } from '../../context.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { validate } from '../../middleware/validate.ts';
import { serialized } from '../../schemas.ts';
import { CreateTenant, ListTenants, type MyTenant, type TenantList } from './schema.ts';

export function createTenantsRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/tenants' });
  router.post('/', authenticate(), validate(CreateTenant), createTenant);
  router.get('/', authenticate(), validate(ListTenants), listTenants);
  return router;
}

async function createTenant(ctx: RouteContext<typeof CreateTenant>) {
  const { userId } = userOf(ctx);
  const tenantId = randomUUID();
  const tenant = await withTenant(ctx.services.pool, { tenantId, userId }, async (tx) => {
    const row = await insertTenant(tx, { id: tenantId, name: ctx.state.input.body.name, createdBy: userId });
    await insertMembership(tx, { tenantId, userId, role: 'owner' });
    await audit(ctx, tx, { action: 'tenant.create', tenantId, target: { type: 'tenant', id: tenantId } });
    return row;
  });
  ctx.status = 201;
  ctx.body = serialized({ ...tenant, role: 'owner' }) satisfies MyTenant;
}

async function listTenants(ctx: RouteContext<typeof ListTenants>) {
  const { userId } = userOf(ctx);
  const tenants = await withTenant(ctx.services.pool, { userId }, listMyTenants);
  ctx.body = { tenants: tenants.map(serialized) } satisfies TenantList;
}
