// The API's one error hierarchy. Every error a client may see carries an HTTP status, a
// stable machine-readable `code`, a message meant for people, and optional details. The
// error handler (middleware/error-handler.ts) turns them into
// `{ "error": { "code", "message", "details" } }`; anything else becomes a bare 500.

export type ErrorDetails = Readonly<Record<string, unknown>>;

/** Thrown when a request fails in a way the client should be told about; the base of all below. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Thrown when the request is malformed in a way no schema describes (bad JSON, missing tenant header). */
export class BadRequestError extends ApiError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super(400, code, message, details);
  }
}

export interface ValidationIssue {
  /** Where the value was: `body.email`, `query.limit`, `params.jobId`. */
  readonly path: string;
  readonly message: string;
  readonly code: string;
}

/** Thrown when the body, query or path parameters do not match the route's schema. */
export class ValidationError extends ApiError {
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(400, 'validation_failed', 'The request did not pass validation', { issues });
  }
}

/** Thrown when the request carries no credentials, or credentials that are bad, expired or revoked. */
export class UnauthorizedError extends ApiError {
  constructor(code = 'unauthenticated', message = 'Authentication is required') {
    super(401, code, message);
  }
}

/** Thrown when the caller is known but their role or kind of credential does not allow the action. */
export class ForbiddenError extends ApiError {
  constructor(message = 'You are not allowed to do this', code = 'forbidden') {
    super(403, code, message);
  }
}

/** Thrown when a route or resource does not exist, or belongs to a tenant the caller is not in. */
export class NotFoundError extends ApiError {
  constructor(message = 'Not found', code = 'not_found') {
    super(404, code, message);
  }
}

/** Thrown when the path exists but does not accept the request's method. */
export class MethodNotAllowedError extends ApiError {
  constructor(readonly allowed: readonly string[]) {
    super(405, 'method_not_allowed', 'This method is not allowed here', { allowed });
  }
}

/** Thrown when the request conflicts with the current state (duplicate email, last owner). */
export class ConflictError extends ApiError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

/** Thrown when the request body is larger than BODY_LIMIT_BYTES. */
export class PayloadTooLargeError extends ApiError {
  constructor(readonly limitBytes: number) {
    super(413, 'payload_too_large', `The request body is larger than ${limitBytes} bytes`, { limitBytes });
  }
}

/** Thrown when a request body is sent in a format other than JSON. */
export class UnsupportedMediaTypeError extends ApiError {
  constructor(message = 'Send the request body as application/json') {
    super(415, 'unsupported_media_type', message);
  }
}

/**
 * Thrown when an uploaded file is in a format Quarry cannot ingest, judged by its bytes as well
 * as its name and declared type; `detectedType` is the type its bytes show, when they show one.
 */
export class UnsupportedDocumentFormatError extends ApiError {
  constructor(
    message: string,
    details: {
      readonly filename: string | null;
      readonly declaredType: string | null;
      readonly detectedType: string | null;
    },
  ) {
    super(415, 'unsupported_format', message, details);
  }
}

/** Thrown when an uploaded text file declares a charset that no decoder here knows. */
export class UnsupportedCharsetError extends ApiError {
  constructor(details: { readonly filename: string | null; readonly declaredType: string; readonly charset: string }) {
    super(
      415,
      'unsupported_charset',
      `The file's declared charset "${details.charset}" is not one Quarry can decode`,
      details,
    );
  }
}

/** Thrown when a caller has made too many failed attempts; the client should wait retryAfterSeconds. */
export class TooManyRequestsError extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'too_many_attempts', 'Too many failed attempts; try again later', { retryAfterSeconds });
  }
}

/** How long a client is told to wait after a 503 that names no time of its own. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * Thrown when a dependency the request needs (PostgreSQL, Temporal, a worker) is not available;
 * the client should retry after `retryAfterSeconds` (sent as Retry-After).
 */
export class ServiceUnavailableError extends ApiError {
  readonly retryAfterSeconds: number;

  constructor(code: string, message: string, details: ErrorDetails & { retryAfterSeconds?: number } = {}) {
    const retryAfterSeconds = details.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    super(503, code, message, { ...details, retryAfterSeconds });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Thrown when a model provider (embeddings, chat) is rate limiting or failing; retry after retryAfterSeconds. */
export class ProviderUnavailableError extends ServiceUnavailableError {
  constructor(retryAfterSeconds: number) {
    super('provider_unavailable', 'The model provider is unavailable; try again later', { retryAfterSeconds });
  }
}

/** Thrown when a model provider rejects the request made of it, or answers with something unusable. */
export class BadGatewayError extends ApiError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super(502, code, message, details);
  }
}

/**
 * Thrown when a feature this deployment has not been configured for is asked for (mail without a
 * Google OAuth client). Permanent until an operator configures it, so no Retry-After.
 */
export class NotConfiguredError extends ApiError {
  constructor(code: string, message: string) {
    super(501, code, message);
  }
}
