// Tells apart the failures that mean "a dependency is down" from the ones that mean "a bug":
// PostgreSQL refusing or dropping connections, or shutting down, and Temporal unreachable. The
// error handler answers the first kind 503 with Retry-After (the client should come back), and
// only what is left is a 500.
import { isGrpcDeadlineError, isGrpcServiceError, ServiceError } from '@temporalio/client';
import {
  BackendTerminatedError,
  BackendTerminatedUnexpectedlyError,
  ConnectionError,
  StatementTimeoutError,
} from 'slonik';
import { ServiceUnavailableError, type ErrorDetails } from './errors.ts';

/** gRPC status codes that say the server could not be reached or did not answer. */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/** Node's socket errors: refused, reset, timed out, unroutable. */
const SOCKET_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of an unavailable server: connection exceptions (08), too many connections and
 * other lack of resources (53), and shutdown or start-up (57P01 admin shutdown, 57P02 crash
 * shutdown, 57P03 cannot connect now).
 */
function isUnavailableState(state: string): boolean {
  return state.startsWith('08') || state.startsWith('53') || ['57P01', '57P02', '57P03'].includes(state);
}

/** Messages node-postgres gives a connection it lost or never got, without a code. */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;

function* chain(error: unknown): Generator<unknown> {
  for (let current = error, depth = 0; current && depth < 6; depth += 1) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

export function isDatabaseUnavailable(error: unknown): boolean {
  for (const link of chain(error)) {
    if (
      link instanceof ConnectionError ||
      link instanceof BackendTerminatedError ||
      link instanceof BackendTerminatedUnexpectedlyError ||
      link instanceof StatementTimeoutError
    ) {
      return true;
    }
    if (link instanceof ServiceError || isGrpcServiceError(link)) return false; // Temporal's, not ours
    const code = (link as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      (SOCKET_ERRORS.has(code) || (/^[0-9A-Z]{5}$/.test(code) && isUnavailableState(code)))
    ) {
      return true;
    }
    if (link instanceof Error && PG_CONNECTION_MESSAGES.test(link.message)) return true;
  }
  return false;
}

export function isTemporalUnavailable(error: unknown): boolean {
  for (const link of chain(error)) {
    if (isGrpcDeadlineError(link)) return true;
    const code = isGrpcServiceError(link) ? (link.code as number) : null;
    if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED) {
      return true;
    }
  }
  return false;
}

/** How long a client should wait before trying again once a dependency is down. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** The 503 a dependency failure answers (with `details` added), or null for any other error. */
export function unavailableFrom(error: unknown, details: ErrorDetails = {}): ServiceUnavailableError | null {
  if (isDatabaseUnavailable(error)) {
    return new ServiceUnavailableError('database_unavailable', 'The database is unavailable; try again shortly', {
      ...details,
      retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS,
    });
  }
  if (isTemporalUnavailable(error)) {
    return new ServiceUnavailableError('temporal_unavailable', 'The job service is unavailable; try again shortly', {
      ...details,
      retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS,
    });
  }
  return null;
}
