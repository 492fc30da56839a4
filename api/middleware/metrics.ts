// Observes each request's duration in the http_request_duration_seconds histogram, labelled
// by method, route template (never the raw path, to keep the label set small) and status.
import type { AppMiddleware } from '../context.ts';

export function recordMetrics(): AppMiddleware {
  return async function recordMetrics(ctx, next) {
    const stop = ctx.services.metrics.httpDuration.startTimer({ method: ctx.method });
    ctx.res.once('close', () => {
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      stop({ route: typeof route === 'string' ? route : 'unmatched', status: String(ctx.status) });
    });
    await next();
  };
}
