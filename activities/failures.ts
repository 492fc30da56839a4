// Turns errors that no retry can mend into non-retryable ApplicationFailures, so that a
// job fails at once with its reason instead of retrying forever; transient errors pass
// through untouched and Temporal retries them with backoff (honouring Retry-After).
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { DataIntegrityError, InvalidInputError, SchemaValidationError } from 'slonik';
import { RagError, TransientProviderError } from '../rag/errors.ts';

/** Errors raised by Slonik itself, before or after PostgreSQL: the query or its rows are wrong. */
const PERMANENT_CLIENT_ERRORS = [InvalidInputError, SchemaValidationError, DataIntegrityError] as const;

/**
 * SQLSTATE classes that no retry can mend: data exceptions (22), integrity violations (23),
 * and syntax or access-rule violations (42, which includes a row-level-security refusal).
 * Connection loss (08), serialization failures and deadlocks (40), lack of resources (53)
 * and operator intervention (57) are transient and left to Temporal's retries.
 */
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23', '42']);

/** The SQLSTATE of a database error, looked up through its chain of causes. */
export function sqlStateOf(error: unknown): string | null {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

function isPermanentDatabaseError(error: unknown): boolean {
  if (PERMANENT_CLIENT_ERRORS.some((type) => error instanceof type)) return true;
  const state = sqlStateOf(error);
  return state !== null && PERMANENT_SQLSTATE_CLASSES.has(state.slice(0, 2));
}

/** The failure Temporal should see for an error thrown by an activity. */
export function toActivityFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof RagError) {
    return ApplicationFailure.create({
      message: error.message,
      type: error.code,
      nonRetryable: !error.retryable,
      cause: error,
      ...(error instanceof TransientProviderError && error.retryAfterMs !== undefined
        ? { nextRetryDelay: error.retryAfterMs }
        : {}),
    });
  }
  if (isPermanentDatabaseError(error)) {
    const failure = error as Error;
    const state = sqlStateOf(error);
    return ApplicationFailure.create({
      message: failure.message,
      // e.g. postgres_23514 for a check violation, or the Slonik class for client-side errors
      type: state ? `postgres_${state}` : failure.name,
      nonRetryable: true,
      cause: failure,
    });
  }
  return error;
}

export function failureInterceptor(): ActivityInterceptorsFactory {
  return () => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (error) {
          throw toActivityFailure(error);
        }
      },
    },
  });
}
