// One long-lived workflow per mail account (id mailboxWorkflowId(tenant, account)), run as a job
// private to the account's user. A full sync first: messages.list page by page, each page's ids
// stored in batches (syncMessages fetches, stores and indexes them), the mailbox's history id
// read when it began. Then incremental syncs from that history id (history.list), on a durable
// timer and on the syncNow signal. Gmail forgetting the history (its 404) runs a full sync again,
// recorded as an event; the upserts keyed on Gmail's ids leave no duplicate. Google refusing the
// grant (invalid_grant) leaves the account `needs_reauth` and the workflow waiting, without
// retrying, until a reconnection signals it; it then goes on from where it stopped. A disconnect
// stops the running step, removes the account's mail (or keeps it) and ends the workflow.
// Between syncs, once a full sync has ended, it keeps Gmail watching the mailbox for push
// notifications (users.watch on the worker's MAIL_PUSH_TOPIC), renewed daily (mailbox-watch.ts).
// The workflow continues as new (a new job row per run) before its history grows large.
import {
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
  ActivityFailure,
  ApplicationFailure,
} from '@temporalio/workflow';
import { FailureType } from '../activities/failure-types.ts';
import type { Activities } from '../activities/index.ts';
import type { HistoryStepResult } from '../activities/mail/sync.ts';
import type { WatchOutcome } from '../activities/mail/watch.ts';
import { mailStep, mailWatchStep } from './activity-options.ts';
import { failureReason, runJob } from './job.ts';
import { MAILBOX_WATCH_PATCH, nextWatchIn } from './mailbox-watch.ts';
import {
  disconnectMailboxSignal,
  mailboxConnectedSignal,
  mailboxPhaseQuery,
  syncNowSignal,
  type DisconnectRequest,
  type MailboxInput,
  type MailboxPhase,
  type MailboxResult,
} from './shared.ts';

const mail = proxyActivities<Activities>(mailStep);
const watch = proxyActivities<Activities>(mailWatchStep);

/** Activities one run schedules before it continues as new (some six history events each). */
const DEFAULT_STEPS_PER_RUN = 500;

/** The type of the ApplicationFailure at the root of an activity's failure, if it is one. */
function failureTypeOf(error: unknown): string | null {
  let current: unknown = error;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  return current instanceof ApplicationFailure ? (current.type ?? null) : null;
}

export async function mailboxWorkflow(input: MailboxInput): Promise<MailboxResult> {
  const { mailbox } = input;
  let phase: MailboxPhase = input.phase ?? {
    kind: 'full',
    pageToken: null,
    startHistoryId: null,
    startedAt: null,
    reason: 'first',
    expiredHistoryId: null,
  };
  let syncRequested = input.syncRequested ?? false;
  // When users.watch is next due (workflow time, ms): at once, the first time a sync has ended.
  let watchDueAt = input.watchDueAt ?? 0;
  let connections = 0;
  let disconnect: DisconnectRequest | null = null;
  let running: CancellationScope | null = null;

  setHandler(syncNowSignal, () => {
    syncRequested = true;
  });
  setHandler(mailboxConnectedSignal, () => {
    connections += 1;
    syncRequested = true;
  });
  setHandler(disconnectMailboxSignal, (request) => {
    disconnect ??= request;
    running?.cancel();
  });
  setHandler(mailboxPhaseQuery, () => phase);

  const spec = {
    tenantId: mailbox.tenantId,
    privateTo: mailbox.userId,
    kind: 'mailbox',
    subject: mailbox.accountId,
    createdBy: input.requestedBy,
  } as const;

  const outcome = await runJob(spec, async (job) => {
    const step = { job, mailbox };
    let steps = 0;
    const stepsPerRun = input.stepsPerRun ?? DEFAULT_STEPS_PER_RUN;
    const handOver = () => steps >= stepsPerRun || workflowInfo().continueAsNewSuggested;

    /** Runs `body` so that a disconnect stops it. */
    const cancellable = async <T>(body: () => Promise<T>): Promise<T> => {
      const scope = new CancellationScope();
      running = scope;
      try {
        return await scope.run(body);
      } finally {
        running = null;
      }
    };

    // The batches of one page run side by side (a page holds at most 500 ids, MAIL_LIST_PAGE_SIZE):
    // their fetches, parsing, embedding and writes overlap, on one worker or several.
    const storeAll = async (batches: readonly (readonly string[])[]) => {
      await Promise.all(batches.map((ids) => mail.syncMessages({ ...step, ids })));
      steps += batches.length;
    };

    /** One sync: the full sync (or what is left of it), else an incremental one. */
    const sync = async (): Promise<'done' | 'handover'> => {
      if (phase.kind === 'full') {
        let full = phase;
        if (full.startHistoryId === null) {
          const begun = await mail.beginFullSync({
            ...step,
            reason: full.reason,
            expiredHistoryId: full.expiredHistoryId,
          });
          phase = full = { ...full, startHistoryId: begun.historyId, startedAt: begun.startedAt };
        } else {
          await mail.beginIncrementalSync(step);
        }
        for (;;) {
          const page = await mail.listMessagePage({ ...step, pageToken: full.pageToken });
          steps += 1;
          await storeAll(page.batches);
          if (!page.nextPageToken) break;
          phase = full = { ...full, pageToken: page.nextPageToken };
          if (handOver()) return 'handover';
        }
        const historyId = full.startHistoryId as string;
        await mail.finishSync({ ...step, historyId, fullSyncStartedAt: full.startedAt });
        phase = { kind: 'incremental', historyId };
        return 'done';
      }
      const startHistoryId = phase.historyId;
      await mail.beginIncrementalSync(step);
      let pageToken: string | null = null;
      let latest: string;
      do {
        const page: HistoryStepResult = await mail.syncHistoryPage({ ...step, startHistoryId, pageToken });
        steps += 1;
        await storeAll(page.added);
        pageToken = page.nextPageToken;
        latest = page.historyId;
      } while (pageToken);
      await mail.finishSync({ ...step, historyId: latest });
      phase = { kind: 'incremental', historyId: latest };
      return 'done';
    };

    /** Asks Gmail to watch the mailbox (or renew its watch), and sets when to do so next. */
    const renewWatch = async () => {
      let outcome: WatchOutcome | null = null;
      try {
        outcome = await cancellable(() => watch.watchMailbox(step));
      } catch (error) {
        if (isCancellation(error)) {
          if (disconnect !== null) return;
          throw error;
        }
        // Recorded by the step's own events; the syncs go on without push until the next try.
      }
      steps += 1;
      watchDueAt = Date.now() + nextWatchIn(outcome, Date.now());
    };

    /**
     * Waits for the next sync: its timer, a request or a disconnect. A mailbox synced in full at
     * least once keeps its watch renewed meanwhile, the timer running on through each renewal.
     */
    const idle = async () => {
      // Date is the workflow's clock here (the time of the workflow task), the same on replay.
      const wake = () => syncRequested || disconnect !== null;
      const syncAt = Date.now() + input.syncIntervalSeconds * 1000;
      for (;;) {
        const watching = phase.kind === 'incremental' && patched(MAILBOX_WATCH_PATCH);
        if (watching && Date.now() >= watchDueAt) await renewWatch();
        const until = watching ? Math.min(syncAt, watchDueAt) : syncAt;
        if (await condition(wake, Math.max(until - Date.now(), 1))) return;
        if (Date.now() >= syncAt) return;
      }
    };

    // A run handed over right after a finished sync starts where that one would have: waiting.
    if (input.synced) await idle();
    while (disconnect === null) {
      syncRequested = false;
      const connectionsBefore = connections;
      try {
        if ((await cancellable(sync)) === 'handover') return 'handover' as const;
      } catch (error) {
        if (disconnect !== null && isCancellation(error)) break;
        const type = failureTypeOf(error);
        if (type === FailureType.MAIL_HISTORY_EXPIRED && phase.kind === 'incremental') {
          phase = {
            kind: 'full',
            pageToken: null,
            startHistoryId: null,
            startedAt: null,
            reason: 'history_expired',
            expiredHistoryId: phase.historyId,
          };
          continue;
        }
        if (type === FailureType.MAIL_NEEDS_REAUTH) {
          // The activity recorded needs_reauth with the reason; nothing more is tried until the
          // user connects the mailbox again (or disconnects it).
          await condition(() => connections > connectionsBefore || disconnect !== null);
          continue;
        }
        await mail.markMailboxError({ ...step, reason: failureReason(error) });
      }
      steps += 2;
      if (handOver()) return 'synced' as const;
      await idle();
    }
    const { keep } = disconnect;
    await mail.purgeMailbox({ ...step, keep });
    return { disconnected: true, kept: keep };
  });

  if (outcome === 'handover' || outcome === 'synced') {
    return continueAsNew<typeof mailboxWorkflow>({
      ...input,
      phase,
      syncRequested,
      synced: outcome === 'synced',
      watchDueAt,
    });
  }
  return outcome;
}
