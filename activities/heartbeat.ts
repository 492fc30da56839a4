// Keeps activities visibly alive, so that only a worker that really died is taken for lost, and
// is noticed within its heartbeat timeout (seconds) rather than its start-to-close (minutes).
//
// heartbeatInterceptor() heartbeats at a third of the heartbeat timeout for the whole run of
// every activity that has one; installed outermost, it covers the job-event writes too. It needs
// the event loop: CPU-bound work yields now and then (rag/ chunking between sections, the local
// embedder every few texts), and extraction runs in a thread of its own.
//
// whileHeartbeating() does the same around one long call inside an activity (a provider request,
// a wait for another workflow), with details, and carries cancellation to it: a call aborted by
// the heartbeat's cancellation fails with its own error (an SDK's abort error), which is turned
// back into the cancellation, so that Temporal and the workflow see the activity cancelled.
import { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

const DEFAULT_INTERVAL_MS = 10_000;

/** A third of the heartbeat timeout: two heartbeats may be lost before the server gives up. */
function intervalOf(heartbeatTimeoutMs: number | undefined): number {
  return heartbeatTimeoutMs ? Math.max(100, Math.floor(heartbeatTimeoutMs / 3)) : DEFAULT_INTERVAL_MS;
}

/** Heartbeats at `intervalMs` until `work` settles. */
async function heartbeating<T>(context: Context, intervalMs: number, work: () => Promise<T>, details?: unknown) {
  context.heartbeat(details);
  const timer = setInterval(() => context.heartbeat(details), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export async function whileHeartbeating<T>(work: () => Promise<T>, details?: unknown): Promise<T> {
  const context = Context.current();
  try {
    return await heartbeating(context, intervalOf(context.info.heartbeatTimeoutMs), work, details);
  } catch (error) {
    if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
    throw error;
  }
}

/** Heartbeats for the whole run of every activity that has a heartbeat timeout. */
export function heartbeatInterceptor(): ActivityInterceptorsFactory {
  return (context) => ({
    inbound: {
      async execute(input, next) {
        const timeout = context.info.heartbeatTimeoutMs;
        if (!timeout) return next(input);
        return heartbeating(context, intervalOf(timeout), () => next(input));
      },
    },
  });
}
