// Operational endpoints, outside /v1: /healthz, /readyz and /openapi.json without
// authentication, and /metrics for the scraper holding METRICS_TOKEN (a 404 when none is set,
// so an API reachable from outside does not show its internals).
import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { ApiContext, ApiContextExtension, ApiState } from '../../context.ts';
import { NotFoundError, ServiceUnavailableError, UnauthorizedError } from '../../errors.ts';
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

/** Whether the request bears the metrics token, compared in constant time. */
function bearsMetricsToken(ctx: ApiContext, token: string): boolean {
  const sent = /^Bearer (.+)$/i.exec(ctx.get('Authorization'))?.[1] ?? '';
  const [a, b] = [createHash('sha256').update(sent).digest(), createHash('sha256').update(token).digest()];
  return timingSafeEqual(a, b);
}

async function metrics(ctx: ApiContext) {
  const token = ctx.services.config.METRICS_TOKEN;
  if (!token) throw new NotFoundError('Metrics are served only when METRICS_TOKEN is set');
  if (!bearsMetricsToken(ctx, token)) throw new UnauthorizedError('invalid_metrics_token', 'Send the metrics token');
  const { registry } = ctx.services.metrics;
  ctx.type = registry.contentType;
  ctx.body = await registry.metrics();
}
