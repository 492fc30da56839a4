// The API's side of an account's mailbox workflow: every route that needs it (the OAuth callback,
// sync now, disconnect) signals it this way, starting it when it is not running, on the ingestion
// task queue (a sync extracts and embeds).
import type { MailAccountRow } from '../../../db/queries/mail-accounts.ts';
import { signalMailbox, type MailboxRequest } from '../../../workflow-client/mail.ts';
import type { ApiContext } from '../../context.ts';

/**
 * Signals the account's mailbox workflow (starting it if it is not running). A run it starts is
 * requested by the account's user, or by no one (`requestedBy` null: a Gmail push).
 */
export function toMailbox(
  ctx: ApiContext,
  owner: { tenantId: string; userId: string },
  account: Pick<MailAccountRow, 'id' | 'historyId'>,
  request: MailboxRequest,
  requestedBy: string | null = owner.userId,
) {
  const { config, temporal } = ctx.services;
  return signalMailbox(
    temporal,
    {
      mailbox: { ...owner, accountId: account.id },
      requestedBy,
      historyId: account.historyId,
      syncIntervalSeconds: config.MAIL_SYNC_INTERVAL_SECONDS,
      stepsPerRun: config.MAIL_STEPS_PER_RUN,
    },
    request,
    { taskQueue: config.INGESTION_TASK_QUEUE },
  );
}
