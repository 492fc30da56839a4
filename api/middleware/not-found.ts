// Mounted ahead of the routers, it looks at what they left: a request that no route took
// (404 with no body) is answered not_found, and one whose path exists with other methods
// (405 from allowedMethods(), with its Allow header) method_not_allowed, in the usual error shape.
// A method no router implements at all (TRACE, PROPFIND…) is the router's 501; to a client it
// is the same as any other method the path does not take: 405 with Allow, or 404 for no path.
import type { AppMiddleware } from '../context.ts';
import { MethodNotAllowedError, NotFoundError } from '../errors.ts';

export function notFound(): AppMiddleware {
  return async function notFound(ctx, next) {
    await next();
    if (ctx.body !== undefined && ctx.body !== null) return;
    if (ctx.status === 404) throw new NotFoundError(`No route matches ${ctx.method} ${ctx.path}`);
    if (ctx.status === 405) throw new MethodNotAllowedError(ctx.response.get('Allow').split(/,\s*/));
    if (ctx.status === 501) {
      const allowed = ctx.response.get('Allow').split(/,\s*/).filter(Boolean);
      if (!allowed.length) throw new NotFoundError(`No route matches ${ctx.method} ${ctx.path}`);
      throw new MethodNotAllowedError(allowed);
    }
  };
}
