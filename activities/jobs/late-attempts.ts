// Attempts that left no account of how they ended, written down by the attempt after them.
// An attempt whose worker died, whose completion never reached Temporal, or that ran while the
// database was down records no terminal event (or records `completed` and is retried anyway).
// When a later attempt of the same activity starts, it finds those gaps in the job's events and
// fills each with a `retrying` event marked `recordedLate`, with the reason, and, for the attempt
// just before it, the failure Temporal recorded (a heartbeat timeout, the database error), as the
// workflow's pending activity describes it. (The pending activity's lastWorkerIdentity names the
// worker of the running attempt, not of the lost one, so it is not used.)
import type { Info } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { decodeTimeoutType } from '@temporalio/common';
import type { AttemptEvents, JobEventInput } from '../../db/queries/job-records.ts';

export type LateReason = 'worker_lost' | 'completion_lost' | 'unrecorded';

/** How Temporal saw the previous attempt of an activity end. */
export interface PriorFailure {
  readonly message: string;
  /** A timeout (heartbeat or start-to-close): the worker stopped answering. */
  readonly timedOut: boolean;
}

/** Looks up how the previous attempt of the running activity ended; null when it cannot tell. */
export type PriorFailureLookup = (info: Info) => Promise<PriorFailure | null>;

/** How an attempt that was retried ends in the history (`completed` then retried is not an end). */
const RETRIED_ENDS = new Set(['retrying', 'failed', 'cancelled']);
const DESCRIBE_DEADLINE_MS = 3_000;

/** The pending activity's last failure, from a description of its workflow run. */
export function priorFailureFromTemporal(client: Client): PriorFailureLookup {
  return async (info) => {
    if (!info.workflowExecution) return null;
    const { workflowId, runId } = info.workflowExecution;
    const description = await client
      .withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () => client.workflow.getHandle(workflowId, runId).describe())
      .catch(() => null);
    const pending = description?.raw.pendingActivities?.find((activity) => activity.activityId === info.activityId);
    const failure = pending?.lastFailure;
    if (!failure) return null;
    const timeoutType = decodeTimeoutType(failure.timeoutFailureInfo?.timeoutType);
    return {
      message: failure.message ?? 'unknown failure',
      timedOut: timeoutType === 'HEARTBEAT' || timeoutType === 'START_TO_CLOSE',
    };
  };
}

/**
 * The attempts before `attempt` whose end the history does not tell: no event, only `started`,
 * or `completed` (and yet retried: its completion was lost, which the history must say).
 */
export function unaccountedAttempts(earlier: readonly AttemptEvents[], attempt: number): number[] {
  const recorded = new Map(earlier.map((row) => [row.attempt, row.statuses]));
  const gaps: number[] = [];
  for (let previous = 1; previous < attempt; previous++) {
    const statuses = recorded.get(previous) ?? [];
    if (!statuses.some((status) => RETRIED_ENDS.has(status))) gaps.push(previous);
  }
  return gaps;
}

/** The late events that account for `gaps`, attempts of `step` before `attempt`. */
export function lateEvents(
  activity: { step: string; activityId: string; attempt: number },
  earlier: readonly AttemptEvents[],
  gaps: readonly number[],
  prior: PriorFailure | null,
): JobEventInput[] {
  const recorded = new Map(earlier.map((row) => [row.attempt, row.statuses]));
  return gaps.map((gap) => {
    const previous = gap === activity.attempt - 1 ? prior : null;
    const reason: LateReason = recorded.get(gap)?.includes('completed')
      ? 'completion_lost'
      : previous?.timedOut
        ? 'worker_lost'
        : 'unrecorded';
    return {
      step: activity.step,
      activityId: activity.activityId,
      status: 'retrying',
      attempt: gap,
      message: previous?.message ?? MESSAGES[reason],
      details: { recordedLate: true, reason, attempt: gap },
    };
  });
}

const MESSAGES: Record<LateReason, string> = {
  worker_lost: 'The worker running this attempt was lost',
  completion_lost: 'This attempt completed, but Temporal never received its result, and ran the step again',
  unrecorded: 'This attempt ended without a record (the database or its worker was unreachable); Temporal retried it',
};
