// Turns errors that no retry can mend into non-retryable ApplicationFailures, so that a
// job fails at once with its reason instead of retrying forever; transient errors pass
// through untouched and Temporal retries them with backoff (honouring Retry-After).
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import {
  DataIntegrityError,
  InputSyntaxError,
  IntegrityConstraintViolationError,
  InvalidInputError,
  SchemaValidationError,
} from 'slonik';
import { RagError, TransientProviderError } from '../rag/errors.ts';

const PERMANENT_DATABASE_ERRORS = [
  IntegrityConstraintViolationError,
  InputSyntaxError,
  InvalidInputError,
  SchemaValidationError,
  DataIntegrityError,
] as const;

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
  if (PERMANENT_DATABASE_ERRORS.some((type) => error instanceof type)) {
    const failure = error as Error;
    return ApplicationFailure.create({ message: failure.message, type: failure.name, nonRetryable: true, cause: failure });
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
