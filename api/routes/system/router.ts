// Operational endpoints, outside /v1: /healthz, /readyz, /readyz/workers and /openapi.json without
// authentication, and /metrics for the scraper holding METRICS_TOKEN (a 404 when none is set,
// so an API reachable from outside does not show its internals).
import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { ApiContext, ApiContextExtension, ApiState } from '../../context.ts';
import { NotFoundError, ServiceUnavailableError, UnauthorizedError } from '../../errors.ts';
import { validate } from '../../middleware/validate.ts';
import { unavailableFrom } from '../../dependency-errors.ts';
import { checkPostgres, checkTemporal, READINESS_TIMEOUT_MS } from './readiness.ts';
import {
  Healthz,
  Metrics,
  OpenApi,
  Readyz,
  ReadyzWorkers,
  type Health,
  type Readiness,
  type WorkersReadiness,
} from './schema.ts';
import { createWorkerProbe, type WorkersReport } from './workers.ts';

/** How long a description of the task queues is reused, so that probes do not hammer Temporal. */
const WORKER_PROBE_CACHE_MS = 2_000;

export function createSystemRouter(options: { openApiDocument: () => object }): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>();
  router.get('/healthz', validate(Healthz), healthz);
  const probeWorkers = workerProbe();
  router.get('/readyz', validate(Readyz), (ctx: ApiContext) => readyz(ctx, probeWorkers));
  router.get('/readyz/workers', validate(ReadyzWorkers), (ctx: ApiContext) => readyzWorkers(ctx, probeWorkers));
  router.get('/metrics', validate(Metrics), metrics);
  router.get('/openapi.json', validate(OpenApi), function openapi(ctx: ApiContext) {
    ctx.body = options.openApiDocument();
  });
  return router;
}

function healthz(ctx: ApiContext) {
  ctx.body = { status: 'ok' } satisfies Health;
}

async function readyz(ctx: ApiContext, probeWorkers: WorkerProbe) {
  const [postgres, temporal] = await Promise.all([
    checkPostgres(ctx.services.pool),
    checkTemporal(ctx.services.temporal),
  ]);
  const checks = { postgres, temporal };
  if (postgres !== 'ok' || temporal !== 'ok') {
    throw new ServiceUnavailableError('not_ready', 'A dependency is not available', { checks });
  }
  const report = await probeWorkers(ctx).catch(() => null);
  const status = report === null ? 'unknown' : report.missing.length ? 'not_ready' : 'ready';
  ctx.body = {
    status: 'ready',
    checks,
    workers: { status, missing: [...(report?.missing ?? [])], queues: [...(report?.queues ?? [])] },
  } satisfies Readiness;
}

async function readyzWorkers(ctx: ApiContext, probeWorkers: WorkerProbe) {
  const report = await probeWorkers(ctx).catch((error: unknown) => {
    throw (
      unavailableFrom(error) ??
      new ServiceUnavailableError('temporal_unavailable', 'The job service is unavailable; try again shortly')
    );
  });
  if (report.missing.length) {
    throw new ServiceUnavailableError(
      'workers_unavailable',
      `No worker polls task queue ${report.missing.join(', ')}`,
      {
        missing: report.missing,
        queues: report.queues,
      },
    );
  }
  ctx.body = { status: 'ready', queues: [...report.queues] } satisfies WorkersReadiness;
}

type WorkerProbe = (ctx: ApiContext) => Promise<WorkersReport>;

/** One probe per app, made on first use from the app's services (they do not change). */
function workerProbe(): WorkerProbe {
  let probe: (() => Promise<WorkersReport>) | undefined;
  return (ctx) => {
    const { temporal, config } = ctx.services;
    probe ??= createWorkerProbe({
      client: temporal,
      namespace: config.TEMPORAL_NAMESPACE,
      queues: [...new Set([config.PLATFORM_TASK_QUEUE, config.INGESTION_TASK_QUEUE])],
      staleAfterMs: config.WORKER_POLL_STALE_SECONDS * 1000,
      cacheMs: WORKER_PROBE_CACHE_MS,
      timeoutMs: READINESS_TIMEOUT_MS,
    });
    return probe();
  };
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
