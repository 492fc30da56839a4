// The watch behind Gmail push notifications: with MAIL_PUSH_TOPIC set, users.watch asks Gmail to
// publish the mailbox's changes on that Cloud Pub/Sub topic, whose push subscription delivers them
// to POST /v1/mail/push. The mailbox workflow decides when (after the first full sync, then daily);
// this step makes the call and keeps the watch's expiration on the account. Gmail's failures are
// sorted as for every mailbox step (scope.ts): rate limits and outages are retried by Temporal,
// invalid_grant leaves the account needing re-auth. A refusal (a 4xx: a topic Gmail may not
// publish to, say) is recorded as an event of the job and answered, so the mailbox syncs on.
import type { DatabasePool } from 'slonik';
import type { Config } from '../../config.ts';
import { insertJobEvent } from '../../db/queries/job-records.ts';
import { setMailAccountWatch } from '../../db/queries/mail-accounts.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { GmailRequestError, type GmailMailboxClient } from '../../mail/gmail.ts';
import type { MailboxRef } from '../../workflows/shared.ts';
import { fromGmail, mailScope, type MailStep } from './scope.ts';

export interface WatchDeps {
  readonly pool: DatabasePool;
  readonly config: Pick<Config, 'MAIL_PUSH_TOPIC'>;
  readonly clientFor: (mailbox: MailboxRef) => Promise<GmailMailboxClient>;
}

/** What a watchMailbox step came to. */
export type WatchOutcome =
  /** No MAIL_PUSH_TOPIC on this worker: nothing was asked of Gmail. */
  | { readonly kind: 'off' }
  /** Gmail watches the mailbox until `expiration` (ms since the epoch). */
  | { readonly kind: 'watching'; readonly topicName: string; readonly expiration: number; readonly historyId: string }
  /** Gmail refused the watch (recorded as an event of the job). */
  | { readonly kind: 'refused'; readonly topicName: string; readonly status: number; readonly reason: string };

export function createWatchActivities(deps: WatchDeps) {
  const { pool, config, clientFor } = deps;
  return {
    /** Asks Gmail to watch the mailbox on MAIL_PUSH_TOPIC (or renews its watch); see the file comment. */
    async watchMailbox(input: MailStep): Promise<WatchOutcome> {
      const topicName = config.MAIL_PUSH_TOPIC;
      if (topicName === undefined) return { kind: 'off' };
      const { mailbox } = input;
      const client = await clientFor(mailbox);
      try {
        const watch = await fromGmail(pool, mailbox, () => client.watch(topicName));
        await withTenant(pool, mailScope(mailbox), (tx) =>
          setMailAccountWatch(tx, mailbox.accountId, watch.expiration),
        );
        return { kind: 'watching', topicName, expiration: watch.expiration.getTime(), historyId: watch.historyId };
      } catch (error) {
        if (!(error instanceof GmailRequestError)) throw error;
        await withTenant(pool, mailScope(mailbox), (tx) =>
          insertJobEvent(tx, input.job, {
            step: 'watchMailbox',
            status: 'info',
            message: `Gmail refused to watch the mailbox on ${topicName}, so no push notifications come: ${error.message}`,
            details: { topicName, status: error.status, reason: error.reason },
          }),
        );
        return { kind: 'refused', topicName, status: error.status, reason: error.message };
      }
    },
  };
}
