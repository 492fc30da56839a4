// A small document's whole build as one activity: extract → chunk → embed (every batch) →
// activate, the same step functions the stepwise run calls one activity at a time, one after
// the other in one attempt. For a document of one to a few chunks each step takes milliseconds,
// and the trips through Temporal between them (a workflow task and an activity task each) were
// most of its time (`npm run bench:breakdown`). The workflow takes this path for originals of up
// to INGESTION_ONE_STEP_MAX_BYTES (see workflows/ingestion.ts).
//
// What a stepwise run keeps, this keeps: each step is idempotent, so a retried attempt (a lost
// worker, a database that was down) resumes where the last one stopped, as the steps do on their
// own; the document and its job end together in activation's transaction; a permanent failure
// of any step fails the build for good, with that step's reason; and the job's step history
// names each step, as the stepwise run's activities would: `started` and its end (`completed`
// with its duration, or `failed` / `retrying` / `cancelled` with the error), each batch of
// embeddings on its own, under an id of its own within the build's activity and attempt. They are
// written in one transaction as the attempt ends, between the build's own `started` and its end
// (which the job-event interceptor writes); an attempt lost with its worker leaves the build's
// events alone, accounted for as any lost attempt is.
import { Context } from '@temporalio/activity';
import type { JobEventInput } from '../../db/queries/job-records.ts';
import { toActivityFailure } from '../failures.ts';
import { attemptEndOf, errorMessage } from '../jobs/interceptor.ts';
import type { JobRecorder } from '../jobs/recorder.ts';
import type { createActivateActivities } from './activate.ts';
import type { createChunkActivities } from './chunk.ts';
import type { createEmbedActivities } from './embed.ts';
import type { createExtractActivities } from './extract.ts';
import type { VersionStep } from './scope.ts';

export type BuildSteps = ReturnType<typeof createExtractActivities> &
  ReturnType<typeof createChunkActivities> &
  ReturnType<typeof createEmbedActivities> &
  ReturnType<typeof createActivateActivities>;

type StepName = 'extractDocument' | 'chunkDocument' | 'embedChunks' | 'activateDocument';

/** Where a build's step events go: under which activity id and attempt. */
export interface BuildAttempt {
  readonly activityId: string;
  readonly attempt: number;
  readonly signal: AbortSignal;
}

/** A build that stopped at a step: the step's own error, and the events recorded up to it. */
export class BuildFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly events: readonly JobEventInput[],
  ) {
    super(errorMessage(error));
  }
}

/**
 * Runs the build's steps in this attempt and answers the chunk count with the step events to
 * record (each step under `${activityId}/${n}`), or throws a BuildFailure with those up to the
 * step that failed, judged as the attempt's end will be: after the failure interceptor's mapping.
 */
export async function buildSteps(
  steps: BuildSteps,
  input: VersionStep,
  at: BuildAttempt,
): Promise<{ chunks: number; events: JobEventInput[] }> {
  const events: JobEventInput[] = [];
  let ran = 0;
  let current: { step: StepName; activityId: string; startedAt: number } | null = null;
  const elapsed = () => Math.round(performance.now() - current!.startedAt);
  const run = async <T>(step: StepName, body: () => Promise<T>): Promise<T> => {
    // A cancelled run stops between steps (a step itself stops where it can).
    at.signal.throwIfAborted();
    current = { step, activityId: `${at.activityId}/${++ran}`, startedAt: performance.now() };
    const result = await body();
    events.push(
      { step, activityId: current.activityId, status: 'started', attempt: at.attempt },
      { step, activityId: current.activityId, status: 'completed', attempt: at.attempt, durationMs: elapsed() },
    );
    current = null;
    return result;
  };

  try {
    await run('extractDocument', () => steps.extractDocument(input));
    let counts = await run('chunkDocument', () => steps.chunkDocument(input));
    while (counts.embedded < counts.total) counts = await run('embedChunks', () => steps.embedChunks(input));
    const chunks = await run('activateDocument', () => steps.activateDocument(input));
    return { chunks, events };
  } catch (error) {
    if (current) {
      const failure = toActivityFailure(error);
      const { step, activityId } = current;
      const end = { step, activityId, attempt: at.attempt, durationMs: elapsed(), message: errorMessage(failure) };
      events.push(
        { step, activityId, status: 'started', attempt: at.attempt },
        { ...end, status: attemptEndOf(failure, at.signal) },
      );
    }
    throw new BuildFailure(error, events);
  }
}

export function createBuildActivities(steps: BuildSteps, recorder: JobRecorder) {
  return {
    /** Builds the version from its original to active; answers its chunk count. */
    async buildDocument(input: VersionStep): Promise<number> {
      const { info, cancellationSignal } = Context.current();
      const at = { activityId: info.activityId, attempt: info.attempt, signal: cancellationSignal };
      try {
        const { chunks, events } = await buildSteps(steps, input, at);
        await recorder.events(input.job, events);
        return chunks;
      } catch (error) {
        if (!(error instanceof BuildFailure)) throw error;
        // The step's own failure is what the attempt reports, even if this write fails too.
        await recorder.events(input.job, error.events).catch(() => undefined);
        throw error.error;
      }
    },
  };
}
