// Gives every request an id (a sane incoming x-request-id is kept, otherwise a new UUID),
// echoes it in the response (with `X-Content-Type-Options: nosniff`), and puts a pino child logger carrying it on ctx.state.log.
// One structured line is logged per request once the response has gone out, so it shows
// the final status even when the error handler (mounted outside) produced the response.
import { randomUUID } from 'node:crypto';
import { apiKeyIdOf, userIdOf, type AppMiddleware } from '../context.ts';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestContext(): AppMiddleware {
  return async function requestContext(ctx, next) {
    const incoming = ctx.get('x-request-id');
    const requestId = SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const started = process.hrtime.bigint();
    ctx.state.requestId = requestId;
    ctx.state.log = ctx.services.logger.child({ requestId });
    ctx.set('x-request-id', requestId);
    // No response is to be sniffed into another type: a downloaded original stays an attachment.
    ctx.set('X-Content-Type-Options', 'nosniff');

    ctx.res.once('close', () => {
      const auth = ctx.state.auth;
      const status = ctx.status;
      ctx.state.log[status >= 500 ? 'error' : 'info'](
        {
          method: ctx.method,
          path: ctx.path,
          status,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          userId: userIdOf(auth) ?? undefined,
          apiKeyId: apiKeyIdOf(auth) ?? undefined,
          aborted: !ctx.res.writableFinished,
        },
        'request',
      );
    });
    await next();
  };
}
