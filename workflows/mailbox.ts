// One long-lived workflow per mail account (id mailboxWorkflowId(tenant, account)), run as a job
// private to the account's user. A full sync first: messages.list page by page, each page's ids
// stored in batches (syncMessages fetches, stores and indexes them), the mailbox's history id
// read when it began. Then incremental syncs from that history id (history.list), on a durable
// timer and on the syncNow signal. Gmail forgetting the history (its 404) runs a full sync again,
// recorded as an event; the upserts keyed on Gmail's ids leave no duplicate. Google refusing the
// grant (invalid_grant) leaves the account `needs_reauth` and the workflow waiting, without
// retrying, until a reconnection signals it; it then goes on from where it stopped. A disconnect
// stops the running step, removes the account's mail (or keeps it) and ends the workflow.
// The workflow continues as new (a new job row per run) before its history grows large.
import {
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
  ActivityFailure,
  ApplicationFailure,
} from '@temporalio/workflow';
import { FailureType } from '../activities/failure-types.ts';
import type { Activities } from '../activities/index.ts';
import type { HistoryStepResult } from '../activities/mail/sync.ts';
import { mailStep } from './activity-options.ts';
import { failureReason, runJob } from './job.ts';
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

    // A run handed over right after a finished sync starts where that one would have: waiting.
    if (input.synced) await condition(() => syncRequested || disconnect !== null, input.syncIntervalSeconds * 1000);
    while (disconnect === null) {
      syncRequested = false;
      const connectionsBefore = connections;
      const scope = new CancellationScope();
      running = scope;
      try {
        if ((await scope.run(sync)) === 'handover') return 'handover' as const;
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
      } finally {
        running = null;
      }
      steps += 2;
      if (handOver()) return 'synced' as const;
      await condition(() => syncRequested || disconnect !== null, input.syncIntervalSeconds * 1000);
    }
    const { keep } = disconnect;
    await mail.purgeMailbox({ ...step, keep });
    return { disconnected: true, kept: keep };
  });

  if (outcome === 'handover' || outcome === 'synced') {
    return continueAsNew<typeof mailboxWorkflow>({ ...input, phase, syncRequested, synced: outcome === 'synced' });
  }
  return outcome;
}
