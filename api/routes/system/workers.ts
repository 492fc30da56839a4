// Which task queues have workers, from Temporal's own description of each queue: its pollers of
// workflow tasks and of activity tasks, and when each last started a poll. A queue is polled when
// both kinds have a poller whose last poll began within `staleAfterMs`: Temporal keeps listing a
// poller for minutes after its worker is gone, so being listed is not enough. The answer is
// kept for `cacheMs`, and probes that arrive meanwhile share one round of calls.
import type { Client } from '@temporalio/client';

/** temporal.api.enums.v1.TaskQueueType (the enum lives in @temporalio/proto, not a direct dependency). */
const TASK_QUEUE_TYPES = { workflow: 1, activity: 2 } as const;
type TaskType = keyof typeof TASK_QUEUE_TYPES;

export interface TaskTypeState {
  /** Pollers whose last poll began recently enough to count. */
  readonly pollers: number;
  /** When the latest poll of any listed poller began (ISO 8601), or null when none is listed. */
  readonly lastPollAt: string | null;
}

export interface QueueState {
  readonly taskQueue: string;
  readonly polled: boolean;
  readonly workflow: TaskTypeState;
  readonly activity: TaskTypeState;
}

export interface WorkersReport {
  /** Queues without a recent poller of workflow or of activity tasks. */
  readonly missing: readonly string[];
  readonly queues: readonly QueueState[];
}

export interface WorkerProbeOptions {
  readonly client: Client;
  readonly namespace: string;
  /** The task queues that must have workers. */
  readonly queues: readonly string[];
  readonly staleAfterMs: number;
  readonly cacheMs: number;
  /** How long one round of Temporal calls may take. */
  readonly timeoutMs: number;
}

interface Timestamp {
  readonly seconds?: number | { toString(): string } | null;
  readonly nanos?: number | null;
}

function epochMs(timestamp: Timestamp | null | undefined): number | null {
  if (!timestamp?.seconds) return null;
  return Number(timestamp.seconds.toString()) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
}

async function describe(options: WorkerProbeOptions, taskQueue: string, type: TaskType, now: number) {
  const { pollers } = await options.client.workflowService.describeTaskQueue({
    namespace: options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: TASK_QUEUE_TYPES[type],
  });
  const polls = (pollers ?? []).map((poller) => epochMs(poller.lastAccessTime)).filter((at) => at !== null);
  const latest = polls.length ? Math.max(...polls) : null;
  return {
    pollers: polls.filter((at) => now - at <= options.staleAfterMs).length,
    lastPollAt: latest === null ? null : new Date(latest).toISOString(),
  } satisfies TaskTypeState;
}

async function report(options: WorkerProbeOptions): Promise<WorkersReport> {
  const deadline = Date.now() + options.timeoutMs;
  const queues = await options.client.connection.withDeadline(deadline, () =>
    Promise.all(
      options.queues.map(async (taskQueue): Promise<QueueState> => {
        const now = Date.now();
        const [workflow, activity] = await Promise.all([
          describe(options, taskQueue, 'workflow', now),
          describe(options, taskQueue, 'activity', now),
        ]);
        return { taskQueue, polled: workflow.pollers > 0 && activity.pollers > 0, workflow, activity };
      }),
    ),
  );
  return { missing: queues.filter((queue) => !queue.polled).map((queue) => queue.taskQueue), queues };
}

/** A probe of the queues' workers; it rejects when Temporal cannot be asked. */
export function createWorkerProbe(options: WorkerProbeOptions): () => Promise<WorkersReport> {
  let cached: { at: number; answer: Promise<WorkersReport> } | null = null;
  return function probeWorkers() {
    if (!cached || Date.now() - cached.at > options.cacheMs) {
      const answer = report(options);
      // Shared while in flight; its age counts from when its answer came.
      const entry = { at: Number.POSITIVE_INFINITY, answer };
      cached = entry;
      void answer.then(
        () => (entry.at = Date.now()),
        () => (entry.at = Date.now()),
      );
    }
    return cached.answer;
  };
}
