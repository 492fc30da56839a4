// Synced mail: the emails of an account and their attachments. The mailbox workflow's activities
// write them, keyed on the account and Gmail's message id, so every write is an upsert that a
// retried activity can repeat; the policy shows a user only their own, so every query runs in a
// context that names the tenant and the user.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import type { MailOwner } from './mail-accounts.ts';

export interface NewEmail {
  readonly id: string;
  readonly accountId: string;
  readonly gmailMessageId: string;
  readonly gmailThreadId: string;
  readonly messageIdHeader: string | null;
  readonly subject: string;
  readonly sender: string | null;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly textBody: string | null;
  readonly htmlBody: string | null;
  readonly labels: readonly string[];
  readonly hasAttachments: boolean;
  readonly sentAt: Date | null;
  readonly receivedAt: Date | null;
  readonly byteSize: number;
  readonly documentId: string | null;
}

export interface NewEmailAttachment {
  readonly id: string;
  readonly ordinal: number;
  readonly filename: string | null;
  readonly mimeType: string | null;
  readonly byteSize: number;
  readonly format: string | null;
  readonly skipReason: string | null;
}

const iso = (date: Date | null) => (date && !Number.isNaN(date.getTime()) ? date.toISOString() : null);

/** Read and important, as Gmail's labels say. */
export function flagsOf(labels: readonly string[]): { isRead: boolean; isImportant: boolean } {
  return { isRead: !labels.includes('UNREAD'), isImportant: labels.includes('IMPORTANT') };
}

/**
 * Stores an email and its attachments; an email already stored for the account under its Gmail
 * id keeps its row (and id), and takes the labels given. Answers the id of the stored row.
 */
export async function upsertEmail(
  tx: TenantConnection,
  owner: MailOwner,
  email: NewEmail,
  attachments: readonly NewEmailAttachment[],
): Promise<string> {
  const { isRead, isImportant } = flagsOf(email.labels);
  const id = await tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
    INSERT INTO emails (id, tenant_id, user_id, account_id, gmail_message_id, gmail_thread_id, message_id_header,
                        subject, sender, to_addresses, cc_addresses, bcc_addresses, text_body, html_body, labels,
                        is_read, is_important, has_attachments, sent_at, received_at, byte_size, document_id)
    VALUES (${email.id}, ${owner.tenantId}, ${owner.userId}, ${email.accountId}, ${email.gmailMessageId},
            ${email.gmailThreadId}, ${email.messageIdHeader}, ${email.subject}, ${email.sender},
            ${sql.array([...email.to], 'text')}, ${sql.array([...email.cc], 'text')},
            ${sql.array([...email.bcc], 'text')}, ${email.textBody}, ${email.htmlBody},
            ${sql.array([...email.labels], 'text')}, ${isRead}, ${isImportant}, ${email.hasAttachments},
            ${iso(email.sentAt)}, ${iso(email.receivedAt)}, ${email.byteSize}, ${email.documentId})
    ON CONFLICT (account_id, gmail_message_id) DO UPDATE
    SET labels = EXCLUDED.labels, is_read = EXCLUDED.is_read, is_important = EXCLUDED.is_important,
        document_id = COALESCE(emails.document_id, EXCLUDED.document_id), last_seen_at = now(), updated_at = now()
    RETURNING id
  `);
  if (attachments.length > 0) {
    const rows = sql.unnest(
      attachments.map((a) => [
        a.id,
        a.ordinal,
        a.filename,
        a.mimeType,
        a.byteSize,
        a.format,
        a.format ? 'indexed' : 'skipped',
        a.skipReason,
      ]),
      ['uuid', 'int4', 'text', 'text', 'int4', 'text', 'text', 'text'],
    );
    await tx.query(sql.unsafe`
      INSERT INTO email_attachments (id, tenant_id, user_id, email_id, ordinal, filename, mime_type, byte_size, format,
                                     status, skip_reason)
      SELECT r.id, ${owner.tenantId}, ${owner.userId}, ${id}, r.ordinal, r.filename, r.mime_type, r.byte_size,
             r.format, r.status, r.skip_reason
      FROM ${rows} AS r(id, ordinal, filename, mime_type, byte_size, format, status, skip_reason)
      ON CONFLICT (email_id, ordinal) DO NOTHING
    `);
  }
  return id;
}

/** Of these Gmail ids, those the account already has an email for. */
export async function storedGmailIds(
  tx: TenantConnection,
  accountId: string,
  gmailIds: readonly string[],
): Promise<ReadonlySet<string>> {
  const rows = await tx.anyFirst(sql.type(z.object({ id: z.string() }))`
    SELECT gmail_message_id AS id FROM emails
    WHERE account_id = ${accountId} AND gmail_message_id = ANY(${sql.array([...gmailIds], 'text')})
  `);
  return new Set(rows);
}

/** Sets an email's labels (and the flags they carry); false when the account has no such email. */
export async function setEmailLabels(
  tx: TenantConnection,
  accountId: string,
  gmailId: string,
  labels: readonly string[],
): Promise<boolean> {
  const { isRead, isImportant } = flagsOf(labels);
  const result = await tx.query(sql.unsafe`
    UPDATE emails SET labels = ${sql.array([...labels], 'text')}, is_read = ${isRead}, is_important = ${isImportant},
                      last_seen_at = now(), updated_at = now()
    WHERE account_id = ${accountId} AND gmail_message_id = ${gmailId}
  `);
  return result.rowCount > 0;
}

/**
 * Applies one label change of Gmail's history to an email: the labels added join, the labels
 * removed leave. Applying it again changes nothing.
 */
export async function changeEmailLabels(
  tx: TenantConnection,
  accountId: string,
  change: { messageId: string; added: readonly string[]; removed: readonly string[] },
): Promise<void> {
  const added = sql.array([...change.added], 'text');
  const removed = sql.array([...change.removed], 'text');
  await tx.query(sql.unsafe`
    UPDATE emails e
    SET labels = n.labels, is_read = NOT ('UNREAD' = ANY(n.labels)), is_important = 'IMPORTANT' = ANY(n.labels),
        updated_at = now()
    FROM (
      SELECT id, ARRAY(SELECT DISTINCT x FROM unnest(labels || ${added}) AS x WHERE x <> ALL(${removed}) ORDER BY x) AS labels
      FROM emails WHERE account_id = ${accountId} AND gmail_message_id = ${change.messageId}
    ) n
    WHERE e.id = n.id
  `);
}

/**
 * Removes the account's emails that no sync has found at Gmail since `since` (what a full sync
 * did not list: deleted while the history could not tell); answers their documents.
 */
export function deleteEmailsUnseenSince(
  tx: TenantConnection,
  accountId: string,
  since: string,
): Promise<readonly string[]> {
  return tx.anyFirst(sql.type(z.object({ documentId: z.uuid() }))`
    WITH gone AS (DELETE FROM emails WHERE account_id = ${accountId} AND last_seen_at < ${since}::timestamptz
                  RETURNING document_id)
    SELECT document_id AS "documentId" FROM gone WHERE document_id IS NOT NULL
  `);
}

/**
 * Removes the account's emails with these Gmail ids (their documents go with them, see migration
 * 12); answers the documents they had, whose blobs the caller removes.
 */
export async function deleteEmails(
  tx: TenantConnection,
  accountId: string,
  gmailIds: readonly string[] | 'all',
): Promise<readonly string[]> {
  const which =
    gmailIds === 'all' ? sql.fragment`TRUE` : sql.fragment`gmail_message_id = ANY(${sql.array([...gmailIds], 'text')})`;
  return tx.anyFirst(sql.type(z.object({ documentId: z.uuid() }))`
    WITH gone AS (DELETE FROM emails WHERE account_id = ${accountId} AND ${which} RETURNING document_id)
    SELECT document_id AS "documentId" FROM gone WHERE document_id IS NOT NULL
  `);
}

/** How many emails and attachments the account holds. */
export function countAccountMail(
  tx: TenantConnection,
  accountId: string,
): Promise<{ messages: number; attachments: number }> {
  return tx.one(sql.type(z.object({ messages: z.number().int(), attachments: z.number().int() }))`
    SELECT (SELECT count(*)::int FROM emails WHERE account_id = ${accountId}) AS messages,
           (SELECT count(*)::int FROM email_attachments a JOIN emails e ON e.id = a.email_id
            WHERE e.account_id = ${accountId}) AS attachments
  `);
}
