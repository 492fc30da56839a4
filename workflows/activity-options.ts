// Named activity-option presets. Transient errors (database down, provider 429/5xx)
// are retried with backoff; permanent ones are non-retryable ApplicationFailures.
//
// Every preset has a heartbeat timeout, and the worker heartbeats for every activity that has
// one (activities/heartbeat.ts), so an attempt whose worker died is retried elsewhere within
// seconds, whatever the step, instead of waiting out its start-to-close timeout.
import { ActivityCancellationType, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';

/** How long an activity may go without a heartbeat before its worker counts as lost. */
export const HEARTBEAT_TIMEOUT_SECONDS = 10;

/** The preset with a heartbeat timeout (ingestion passes INGESTION_HEARTBEAT_TIMEOUT_SECONDS). */
export function withHeartbeatTimeout(
  options: ActivityOptions,
  seconds: number = HEARTBEAT_TIMEOUT_SECONDS,
): ActivityOptions {
  return { ...options, heartbeatTimeout: seconds * 1000 };
}

/** Job bookkeeping: small writes that must eventually land, so retried for a long time. */
export const bookkeeping: ActivityOptions = withHeartbeatTimeout({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Job bookkeeping as local activities (a job's start and end, see job.ts): the same timeouts and
 * retries. A local activity has no heartbeat: a worker lost during one loses its workflow task,
 * which runs again elsewhere (within the workflow task timeout) and runs the activity again;
 * both writes are idempotent.
 */
export const localBookkeeping: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/** A database step of a job: retried with backoff, a bounded number of times. */
export const databaseStep: ActivityOptions = withHeartbeatTimeout({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/**
 * A step of document ingestion (register, extract, chunk, activate). Transient failures (the
 * database or the blob store unavailable) are retried with backoff for a good while; permanent
 * ones (unsupported or corrupt files) arrive as non-retryable failures and end the job at once.
 */
export const documentStep: ActivityOptions = withHeartbeatTimeout({
  startToCloseTimeout: '5 minutes',
  // A cancelled workflow waits for a running step to stop (or finish) before it cleans up, so a
  // step can never write after the cleanup.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

/**
 * Extraction: a document step that gives up sooner. Its permanent failures (corrupt, too large,
 * too slow) are non-retryable already; what is left transient is the blob store, and a parser
 * thread that failed in a way no one foresaw, which may well recur on every attempt. So a few
 * attempts over about a minute and a half, then the job fails with the last reason.
 */
export const extractionStep: ActivityOptions = {
  ...documentStep,
  retry: { initialInterval: '2 seconds', backoffCoefficient: 3, maximumInterval: '1 minute', maximumAttempts: 5 },
};

/**
 * One batch of embeddings: a provider call and the vector write. A provider's Retry-After
 * overrides the backoff for the next attempt (nextRetryDelay).
 */
export const embeddingStep: ActivityOptions = {
  ...documentStep,
  startToCloseTimeout: '10 minutes',
};

/**
 * A step of a mailbox sync (a page of ids or history, a batch of messages). Gmail's rate limits
 * come back with Retry-After, which overrides the backoff for the next attempt (nextRetryDelay);
 * outages are retried for a good while. A cancelled mailbox (disconnected) waits for its running
 * step to stop, so nothing writes after its mail is removed.
 */
export const mailStep: ActivityOptions = withHeartbeatTimeout({
  startToCloseTimeout: '10 minutes',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 30 },
});

/**
 * The mailbox's users.watch (push notifications): a mail step with less time, since it must not
 * hold up the syncs that wait behind it for long, and a watch lasts days. One that runs out of
 * time is tried again later (workflows/mailbox-watch.ts).
 */
export const mailWatchStep: ActivityOptions = {
  ...mailStep,
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '10 minutes',
};
