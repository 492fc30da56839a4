// Named activity-option presets. Transient errors (database down, provider 429/5xx)
// are retried with backoff; permanent ones are non-retryable ApplicationFailures.
import type { ActivityOptions } from '@temporalio/workflow';

/** Job bookkeeping: small writes that must eventually land, so retried for a long time. */
export const bookkeeping: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/** A database step of a job: retried with backoff, a bounded number of times. */
export const databaseStep: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
};
