// Operational endpoints, outside /v1 and without authentication: /healthz, /readyz,
// /metrics and /openapi.json.
import Router from '@koa/router';
import type { ApiContext, ApiContextExtension, ApiState } from '../../context.ts';
import { ServiceUnavailableError } from '../../errors.ts';
import { validate } from '../../middleware/validate.ts';
import { checkPostgres, checkTemporal } from './readiness.ts';
import { Healthz, Metrics, OpenApi, Readyz, type Health, type Readiness } from './schema.ts';

export function createSystemRouter(options: { openApiDocument: () => object }): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>();
  router.get('/healthz', validate(Healthz), healthz);
  router.get('/readyz', validate(Readyz), readyz);
  router.get('/metrics', validate(Metrics), metrics);
  router.get('/openapi.json', validate(OpenApi), function openapi(ctx: ApiContext) {
    ctx.body = options.openApiDocument();
  });
  return router;
}

function healthz(ctx: ApiContext) {
  ctx.body = { status: 'ok' } satisfies Health;
}

async function readyz(ctx: ApiContext) {
  const [postgres, temporal] = await Promise.all([
    checkPostgres(ctx.services.pool),
    checkTemporal(ctx.services.temporal),
  ]);
  const checks = { postgres, temporal };
  if (postgres !== 'ok' || temporal !== 'ok') {
    throw new ServiceUnavailableError('not_ready', 'A dependency is not available', { checks });
  }
  ctx.body = { status: 'ready', checks } satisfies Readiness;
}

async function metrics(ctx: ApiContext) {
  const { registry } = ctx.services.metrics;
  ctx.type = registry.contentType;
  ctx.body = await registry.metrics();
}
