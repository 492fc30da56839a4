// Parses JSON request bodies up to the configured limit (@koa/bodyparser). A body in any
// other format is refused with 415 rather than silently read as empty. Malformed JSON and
// oversized bodies surface as errors that the error handler answers 400 and 413.
import { bodyParser } from '@koa/bodyparser';
import type { AppMiddleware } from '../context.ts';
import { UnsupportedMediaTypeError } from '../errors.ts';

const PARSED_METHODS = ['POST', 'PUT', 'PATCH'];
const UNSTREAMABLE_ENCODING = 'Send uploads without a Content-Encoding';

export function jsonBody(options: {
  limitBytes: number;
  /** Media types left unread for the route to stream (multipart uploads). */
  streamed?: readonly string[];
}): AppMiddleware {
  const parse = bodyParser({
    enableTypes: ['json'],
    jsonLimit: options.limitBytes,
    jsonStrict: true,
    parsedMethods: PARSED_METHODS,
  });
  return async function jsonBody(ctx, next) {
    const sendsBody = PARSED_METHODS.includes(ctx.method) && Boolean(ctx.request.length);
    if (sendsBody && options.streamed?.length && ctx.is(...options.streamed)) {
      // A streamed body is read as sent: a compressed one would only fail later, as garbage.
      const encoding = ctx.get('Content-Encoding').trim().toLowerCase();
      if (encoding && encoding !== 'identity') throw new UnsupportedMediaTypeError(UNSTREAMABLE_ENCODING);
      await next();
      return;
    }
    if (sendsBody && !ctx.is('application/json', '+json')) throw new UnsupportedMediaTypeError();
    await parse(ctx, next);
  };
}
