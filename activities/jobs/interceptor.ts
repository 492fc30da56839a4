// Records a job event for every attempt of every job activity: `started` with the attempt
// number, then `completed` with its duration, or `retrying` / `failed` / `cancelled` with
// the error, each with the activity's id. A retry first writes down the earlier attempts that
// left no account of their end (late-attempts.ts). An activity is a job activity when its
// single input object carries `job`.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { JobRef } from '../../contract/jobs.ts';
import { BOOKKEEPING_ACTIVITIES } from './index.ts';
import type { PriorFailureLookup } from './late-attempts.ts';
import type { JobRecorder } from './recorder.ts';

function jobRefOf(args: readonly unknown[]): JobRef | null {
  const first = args[0];
  if (typeof first !== 'object' || first === null || !('job' in first)) return null;
  const job = first.job;
  if (typeof job !== 'object' || job === null || !('workflowId' in job) || !('runId' in job)) return null;
  return job as JobRef;
}

/** How an attempt that threw `error` ended, as its job event says: Temporal will retry it, or not. */
export function attemptEndOf(error: unknown, signal: AbortSignal): 'cancelled' | 'failed' | 'retrying' {
  if (error instanceof CancelledFailure || signal.aborted) return 'cancelled';
  return error instanceof ApplicationFailure && error.nonRetryable ? 'failed' : 'retrying';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function jobEventsInterceptor(
  recorder: JobRecorder,
  onRecordError: (error: unknown) => void,
  priorFailure: PriorFailureLookup,
): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const job = jobRefOf(input.args);
        const step = ctx.info.activityType;
        if (!job || BOOKKEEPING_ACTIVITIES.has(step)) return next(input);

        const { attempt, activityId } = ctx.info;
        const startedAt = performance.now();
        const elapsed = () => Math.round(performance.now() - startedAt);
        // A failure to record the start is a failure of the attempt: Temporal retries it.
        await recorder.attemptStarted(job, { step, activityId, attempt }, () => priorFailure(ctx.info));
        try {
          const result = await next(input);
          await recorder.event(job, { step, activityId, status: 'completed', attempt, durationMs: elapsed() });
          return result;
        } catch (error) {
          const status = attemptEndOf(error, ctx.cancellationSignal);
          await recorder
            .event(job, { step, activityId, status, attempt, durationMs: elapsed(), message: errorMessage(error) })
            .catch(onRecordError);
          throw error;
        }
      },
    },
  });
}
