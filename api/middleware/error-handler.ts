// The one error handler, mounted first. Every failure leaves as
// `{ "error": { "code", "message", "details" } }`: ApiErrors as they are, the body parser's
// errors as invalid_json / payload_too_large, a dependency that is down (PostgreSQL, Temporal)
// as 503 with Retry-After, and anything unexpected as a 500 that shows no internals and is
// logged with the request id.
import type { AppMiddleware } from '../context.ts';
import { unavailableFrom } from '../dependency-errors.ts';
import {
  ApiError,
  BadRequestError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnsupportedMediaTypeError,
} from '../errors.ts';

interface HttpErrorLike {
  readonly status?: number;
  readonly type?: string;
  readonly expose?: boolean;
  readonly message?: string;
}

/** zlib's errors (gzip, deflate: Z_DATA_ERROR…; brotli: ERR__ERROR_FORMAT_…) while the body is inflated. */
function isDecompressionError(caught: unknown): boolean {
  const { code, errno } = (caught ?? {}) as { code?: unknown; errno?: unknown };
  return typeof code === 'string' && typeof errno === 'number' && /^(Z_|ERR__)/.test(code);
}

/** Errors raised by the body parser (co-body, raw-body) and by Koa, as ApiErrors; null for anything else. */
function fromHttpError(caught: unknown, bodyLimitBytes: number): ApiError | null {
  const error = (caught ?? {}) as HttpErrorLike;
  if (error.type === 'entity.too.large' || error.status === 413) return new PayloadTooLargeError(bodyLimitBytes);
  if (error.type === 'encoding.unsupported' || error.status === 415) {
    return /content-encoding/i.test(error.message ?? '')
      ? new UnsupportedMediaTypeError('Send the body with a Content-Encoding of gzip, deflate, br or none')
      : new UnsupportedMediaTypeError();
  }
  if (isDecompressionError(caught)) {
    return new BadRequestError(
      'invalid_encoding',
      'The request body could not be decoded as its Content-Encoding header says',
    );
  }
  if (caught instanceof SyntaxError && error.status === 400) {
    return new BadRequestError('invalid_json', 'The request body is not valid JSON');
  }
  if (typeof error.status === 'number' && error.status >= 400 && error.status < 500 && error.expose) {
    return new ApiError(error.status, 'bad_request', error.message ?? 'Bad request');
  }
  return null;
}

export function errorHandler(options: { bodyLimitBytes: number }): AppMiddleware {
  return async function errorHandler(ctx, next) {
    try {
      await next();
    } catch (caught) {
      const known =
        caught instanceof ApiError
          ? caught
          : (fromHttpError(caught, options.bodyLimitBytes) ?? unavailableFrom(caught));
      const error = known ?? new ApiError(500, 'internal_error', 'Something went wrong on our side');
      if (!known) {
        // The request logger may not have run yet if the failure came first.
        const log = (ctx.state.log as typeof ctx.state.log | undefined) ?? ctx.services.logger;
        log.error({ err: caught, requestId: ctx.state.requestId }, 'unhandled error');
      }
      ctx.status = error.status;
      ctx.body = { error: { code: error.code, message: error.message, details: error.details } };
      if (error instanceof TooManyRequestsError || error instanceof ServiceUnavailableError) {
        ctx.set('Retry-After', String(error.retryAfterSeconds));
      }
      if (error instanceof MethodNotAllowedError) ctx.set('Allow', error.allowed.join(', '));
      if (error.status === 401) ctx.set('WWW-Authenticate', 'Bearer');
    }
  };
}
