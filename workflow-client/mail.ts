// Reaching an account's mailbox workflow from the API: every request is a signal-with-start, so
// the account's one workflow (id mailboxWorkflowId) is started by whichever request comes first,
// a connection, a reconnection, a sync asked for or a disconnect, and only signalled after that.
// A new run starts from the history id the account has stored, so a mailbox whose workflow was
// lost does not sync everything again.
import type { Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { mailboxWorkflowId } from '../contract/jobs.ts';
import { JobKindKey, JobStatusKey, JobSubjectKey, TenantIdKey } from '../contract/search-attributes.ts';
import { mailboxWorkflow } from '../workflows/index.ts';
import {
  disconnectMailboxSignal,
  mailboxConnectedSignal,
  syncNowSignal,
  type DisconnectRequest,
  type MailboxInput,
  type MailboxRef,
  type MailboxResult,
} from '../workflows/shared.ts';

export type MailboxRequest =
  | { readonly kind: 'connected' }
  | { readonly kind: 'syncNow' }
  | { readonly kind: 'disconnect'; readonly request: DisconnectRequest };

export interface MailboxStart {
  readonly mailbox: MailboxRef;
  readonly requestedBy: string | null;
  /** The history id the account has stored (where a new run goes on from), if any. */
  readonly historyId: string | null;
  readonly syncIntervalSeconds: number;
  readonly stepsPerRun: number;
}

function attributes(mailbox: MailboxRef): SearchAttributePair[] {
  return [
    { key: TenantIdKey, value: mailbox.tenantId },
    { key: JobKindKey, value: 'mailbox' },
    { key: JobSubjectKey, value: mailbox.accountId },
    { key: JobStatusKey, value: 'queued' },
  ];
}

/** Signals the account's mailbox workflow, starting it first if it is not running. */
export async function signalMailbox(
  client: Client,
  start: MailboxStart,
  request: MailboxRequest,
  options: { taskQueue: string },
): Promise<{ workflowId: string; runId: string }> {
  const input: MailboxInput = {
    mailbox: start.mailbox,
    requestedBy: start.requestedBy,
    syncIntervalSeconds: start.syncIntervalSeconds,
    stepsPerRun: start.stepsPerRun,
    ...(start.historyId ? { phase: { kind: 'incremental', historyId: start.historyId } } : {}),
  };
  const common = {
    workflowId: mailboxWorkflowId(start.mailbox.tenantId, start.mailbox.accountId),
    taskQueue: options.taskQueue,
    args: [input] as [MailboxInput],
    typedSearchAttributes: attributes(start.mailbox),
  };
  const handle =
    request.kind === 'disconnect'
      ? await client.workflow.signalWithStart(mailboxWorkflow, {
          ...common,
          signal: disconnectMailboxSignal,
          signalArgs: [request.request],
        })
      : await client.workflow.signalWithStart(mailboxWorkflow, {
          ...common,
          signal: request.kind === 'connected' ? mailboxConnectedSignal : syncNowSignal,
          signalArgs: [],
        });
  return { workflowId: handle.workflowId, runId: handle.signaledRunId };
}

/** Waits up to `timeoutMs` for the mailbox workflow to end; null when it has not by then. */
export async function mailboxOutcome(
  client: Client,
  mailbox: MailboxRef,
  timeoutMs: number,
): Promise<MailboxResult | null> {
  const handle = client.workflow.getHandle<typeof mailboxWorkflow>(
    mailboxWorkflowId(mailbox.tenantId, mailbox.accountId),
  );
  return client.withDeadline(Date.now() + timeoutMs, () => handle.result()).catch(() => null);
}
