// The steps of a mailbox sync other than storing messages (store.ts): reading where the mailbox
// stands, a page of message ids, a page of history (deletions and label changes applied here, the
// added messages handed back by id for store.ts), the end of a sync, a failed sync, and removing
// the account's mail when it is disconnected. Each passes ids and page tokens only.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { changeEmailLabels, deleteEmails, deleteEmailsUnseenSince } from '../../db/queries/emails.ts';
import { insertJobEvent } from '../../db/queries/job-records.ts';
import {
  deleteMailAccount,
  markMailAccountSynced,
  markMailAccountSyncing,
  setMailAccountStatus,
} from '../../db/queries/mail-accounts.ts';
import { withTenant, type TenantConnection } from '../../db/with-tenant.ts';
import type { GmailMailboxClient } from '../../mail/gmail.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { documentPrefix } from '../../storage/document-keys.ts';
import type { FullSyncReason, MailboxRef } from '../../workflows/shared.ts';
import { fromGmail, mailScope, type MailStep } from './scope.ts';

export interface SyncDeps {
  readonly pool: DatabasePool;
  readonly blobs: BlobStore;
  readonly config: { readonly MAIL_LIST_PAGE_SIZE: number; readonly MAIL_BATCH_SIZE: number };
  readonly clientFor: (mailbox: MailboxRef) => Promise<GmailMailboxClient>;
}

export interface HistoryStep extends MailStep {
  readonly startHistoryId: string;
  readonly pageToken: string | null;
}

/** Message ids cut into the batches that syncMessages stores one at a time. */
export type IdBatches = readonly (readonly string[])[];

export interface HistoryStepResult {
  /** Messages added since, to be stored (by id, in batches). */
  readonly added: IdBatches;
  readonly deleted: number;
  readonly labelChanges: number;
  readonly nextPageToken: string | null;
  readonly historyId: string;
}

const Now = z.object({ now: z.string() });

/** The transaction's time (now()), as an ISO string with microseconds. */
function transactionTime(tx: TenantConnection): Promise<string> {
  return tx.oneFirst(sql.type(Now)`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`);
}

export function createSyncActivities(deps: SyncDeps) {
  const { pool, blobs, config, clientFor } = deps;
  const batches = (ids: readonly string[]): IdBatches => {
    const out: string[][] = [];
    for (let start = 0; start < ids.length; start += config.MAIL_BATCH_SIZE) {
      out.push(ids.slice(start, start + config.MAIL_BATCH_SIZE));
    }
    return out;
  };

  /** Removes emails (with their documents, by the trigger) and then their documents' blobs. */
  async function removeMail(
    mailbox: MailboxRef,
    which: readonly string[] | 'all' | { unseenSince: string },
  ): Promise<number> {
    const documents = await withTenant(pool, mailScope(mailbox), (tx) =>
      Array.isArray(which) || which === 'all'
        ? deleteEmails(tx, mailbox.accountId, which as readonly string[] | 'all')
        : deleteEmailsUnseenSince(tx, mailbox.accountId, (which as { unseenSince: string }).unseenSince),
    );
    for (const documentId of documents) await blobs.deletePrefix(documentPrefix(mailbox.tenantId, documentId));
    return documents.length;
  }

  return {
    /**
     * A full sync begins: the account shows as syncing, and the mailbox's history id now is where
     * incremental sync will start once every message is stored; the database's time now is what
     * an email this full sync does not find was last seen before. A full sync that follows an
     * expired history is recorded as an event of the job.
     */
    async beginFullSync(
      input: MailStep & { reason: FullSyncReason; expiredHistoryId?: string | null },
    ): Promise<{ historyId: string; startedAt: string }> {
      const { mailbox } = input;
      const client = await clientFor(mailbox);
      const profile = await fromGmail(pool, mailbox, () => client.profile());
      const startedAt = await withTenant(pool, mailScope(mailbox), async (tx) => {
        await markMailAccountSyncing(tx, mailbox.accountId);
        if (input.reason === 'history_expired') {
          await insertJobEvent(tx, input.job, {
            step: 'fullSync',
            status: 'info',
            message: `Gmail no longer has the history from ${input.expiredHistoryId ?? '?'}: full sync again from ${profile.historyId}`,
            details: {
              reason: input.reason,
              expiredHistoryId: input.expiredHistoryId ?? null,
              historyId: profile.historyId,
            },
          });
        }
        return transactionTime(tx);
      });
      return { historyId: profile.historyId, startedAt };
    },

    /** An incremental sync begins: the account shows as syncing. */
    async beginIncrementalSync({ mailbox }: MailStep): Promise<void> {
      await withTenant(pool, mailScope(mailbox), (tx) => markMailAccountSyncing(tx, mailbox.accountId));
    },

    /** A page of the mailbox's message ids (newest first) in batches, and the token of the next page. */
    async listMessagePage(
      input: MailStep & { pageToken: string | null },
    ): Promise<{ batches: IdBatches; nextPageToken: string | null }> {
      const client = await clientFor(input.mailbox);
      const page = await fromGmail(pool, input.mailbox, () =>
        client.listMessages(input.pageToken, config.MAIL_LIST_PAGE_SIZE),
      );
      return { batches: batches(page.ids), nextPageToken: page.nextPageToken };
    },

    /**
     * A page of history: messages deleted leave (with their documents and blobs), label changes
     * are applied in order, and the ids of messages added are handed back to be stored.
     * Applying a page again leaves the same result.
     */
    async syncHistoryPage(input: HistoryStep): Promise<HistoryStepResult> {
      const { mailbox } = input;
      const client = await clientFor(mailbox);
      const page = await fromGmail(pool, mailbox, () => client.history(input.startHistoryId, input.pageToken));
      const deletedSet = new Set(page.deleted);
      await withTenant(pool, mailScope(mailbox), async (tx) => {
        for (const change of page.labelChanges) {
          if (!deletedSet.has(change.messageId)) await changeEmailLabels(tx, mailbox.accountId, change);
        }
      });
      if (page.deleted.length > 0) await removeMail(mailbox, page.deleted);
      return {
        added: batches(page.added.filter((id) => !deletedSet.has(id))),
        deleted: page.deleted.length,
        labelChanges: page.labelChanges.length,
        nextPageToken: page.nextPageToken,
        historyId: page.historyId,
      };
    },

    /**
     * A sync ended: the account is idle, with the history id the next sync starts from. After a
     * full sync (`fullSyncStartedAt`), the emails it did not find at Gmail are removed.
     */
    async finishSync(
      input: MailStep & { historyId: string; fullSyncStartedAt?: string | null },
    ): Promise<{ removed: number }> {
      const { mailbox } = input;
      const removed = input.fullSyncStartedAt ? await removeMail(mailbox, { unseenSince: input.fullSyncStartedAt }) : 0;
      await withTenant(pool, mailScope(mailbox), (tx) => markMailAccountSynced(tx, mailbox.accountId, input.historyId));
      return { removed };
    },

    /** A sync failed for a reason no retry mended: the account shows the error until the next sync. */
    async markMailboxError({ mailbox, reason }: MailStep & { reason: string }): Promise<void> {
      await withTenant(pool, mailScope(mailbox), (tx) =>
        setMailAccountStatus(tx, mailbox.accountId, 'error', reason.slice(0, 2000)),
      );
    },

    /**
     * The account is disconnected: its emails, their attachments, documents, chunks and blobs go,
     * and the account row too, unless `keep` (then it stays, as disconnected, with its mail).
     */
    async purgeMailbox({ mailbox, keep }: MailStep & { keep: boolean }): Promise<{ documents: number }> {
      if (keep) {
        await withTenant(pool, mailScope(mailbox), (tx) =>
          setMailAccountStatus(tx, mailbox.accountId, 'disconnected', 'Disconnected by its user'),
        );
        return { documents: 0 };
      }
      const documents = await removeMail(mailbox, 'all');
      await withTenant(pool, mailScope(mailbox), (tx) => deleteMailAccount(tx, mailbox.accountId));
      return { documents };
    },
  };
}
