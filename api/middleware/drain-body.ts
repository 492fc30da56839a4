// Reads to its end, and discards, a request body that is still unread when the response has gone
// out. The JSON parser stops at the first chunk it cannot use (a body that fails to inflate, one
// that passes the limit part way) and leaves the request paused. Node's server discards a body
// that nothing started to read, but not one left part read: on a kept-alive connection the next
// request then waits behind those bytes, unanswered, until the connection times out.
import type { AppMiddleware } from '../context.ts';

export function drainBody(): AppMiddleware {
  return async function drainBody(ctx, next) {
    const request = ctx.req;
    ctx.res.once('finish', () => {
      if (request.complete || request.destroyed) return;
      request.unpipe();
      request.removeAllListeners('data');
      request.resume();
    });
    await next();
  };
}
