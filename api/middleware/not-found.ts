// Mounted ahead of the routers, it looks at what they left: a request that no route took
// (404 with no body) is answered not_found, and one whose path exists with other methods
// (405 from allowedMethods(), with its Allow header) method_not_allowed, in the usual error shape.
import type { AppMiddleware } from '../context.ts';
import { ApiError, MethodNotAllowedError, NotFoundError } from '../errors.ts';

export function notFound(): AppMiddleware {
  return async function notFound(ctx, next) {
    await next();
    if (ctx.body !== undefined && ctx.body !== null) return;
    if (ctx.status === 404) throw new NotFoundError(`No route matches ${ctx.method} ${ctx.path}`);
    if (ctx.status === 405) throw new MethodNotAllowedError(ctx.response.get('Allow').split(/,\s*/));
    if (ctx.status === 501) throw new ApiError(501, 'not_implemented', `The ${ctx.method} method is not supported`);
  };
}
