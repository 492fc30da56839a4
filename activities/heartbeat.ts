// Keeps a long activity visibly alive: heartbeats at a third of its heartbeat timeout while a
// single long call (a provider request, a wait for another workflow) is under way, so that only
// a worker that really died is taken for lost. Heartbeats also carry cancellation to the activity:
// a call aborted by it fails with its own error (an SDK's abort error), which is turned back into
// the cancellation, so that Temporal and the workflow see the activity cancelled, not failed.
import { Context } from '@temporalio/activity';

const DEFAULT_INTERVAL_MS = 10_000;

export async function whileHeartbeating<T>(work: () => Promise<T>, details?: unknown): Promise<T> {
  const context = Context.current();
  const timeout = context.info.heartbeatTimeoutMs;
  const interval = timeout ? Math.max(100, Math.floor(timeout / 3)) : DEFAULT_INTERVAL_MS;
  context.heartbeat(details);
  const timer = setInterval(() => context.heartbeat(details), interval);
  try {
    return await work();
  } catch (error) {
    if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
    throw error;
  } finally {
    clearInterval(timer);
  }
}
