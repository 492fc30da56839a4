// GET /v1/stats: the figures of the caller's tenant, for users and API keys of every role.
import Router from '@koa/router';
import { tenantStats } from '../../../db/queries/stats.ts';
import { tenantOf, type ApiContextExtension, type ApiState, type RouteContext } from '../../context.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { requireTenant } from '../../middleware/require-tenant.ts';
import { validate } from '../../middleware/validate.ts';
import { GetStats } from './schema.ts';

export function createStatsRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/stats' });
  router.get('/', authenticate({ apiKeys: true }), requireTenant(), validate(GetStats), stats);
  return router;
}

async function stats(ctx: RouteContext<typeof GetStats>) {
  const { tenantId, tx } = tenantOf(ctx);
  ctx.body = await tenantStats(tx, tenantId);
}
