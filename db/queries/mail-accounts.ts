// Mail accounts: one connected (or connecting) mailbox of a user in a tenant. The API writes
// them while connecting and disconnecting; the mailbox workflow's activities will write the
// sync status, history id and counters. The policy shows a user only their own accounts in the
// current tenant, so every query here runs in a context that names both.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import { selectPage, type Page, type PageCursor } from './pagination.ts';

export const MAIL_ACCOUNT_STATUSES = [
  'connecting',
  'syncing',
  'idle',
  'needs_reauth',
  'error',
  'disconnected',
] as const;
export type MailAccountStatus = (typeof MAIL_ACCOUNT_STATUSES)[number];

export const MailAccountRow = z.object({
  id: z.uuid(),
  provider: z.literal('gmail'),
  address: z.string().nullable(),
  status: z.enum(MAIL_ACCOUNT_STATUSES),
  statusReason: z.string().nullable(),
  historyId: z.string().nullable(),
  lastSyncedAt: z.date().nullable(),
  connectedAt: z.date().nullable(),
  messageCount: z.number().int(),
  attachmentCount: z.number().int(),
  watchExpiresAt: z.date().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type MailAccountRow = z.infer<typeof MailAccountRow>;

const columns = sql.fragment`
  id, provider, address, status, status_reason AS "statusReason", history_id AS "historyId",
  last_synced_at AS "lastSyncedAt", connected_at AS "connectedAt", message_count AS "messageCount",
  attachment_count AS "attachmentCount", watch_expires_at AS "watchExpiresAt", created_at AS "createdAt", updated_at AS "updatedAt"
`;

export interface MailOwner {
  readonly tenantId: string;
  readonly userId: string;
}

/** A new account, connecting: its address is known once Google's redirect comes back. */
export function insertMailAccount(
  tx: TenantConnection,
  owner: MailOwner,
  input: { id: string; address: string | null },
): Promise<MailAccountRow> {
  return tx.one(sql.type(MailAccountRow)`
    INSERT INTO mail_accounts (id, tenant_id, user_id, address, status)
    VALUES (${input.id}, ${owner.tenantId}, ${owner.userId}, ${input.address}, 'connecting')
    RETURNING ${columns}
  `);
}

export function findMailAccount(
  tx: TenantConnection,
  id: string,
  options: { lock?: boolean } = {},
): Promise<MailAccountRow | null> {
  return tx.maybeOne(sql.type(MailAccountRow)`
    SELECT ${columns} FROM mail_accounts WHERE id = ${id} ${options.lock ? sql.fragment`FOR UPDATE` : sql.fragment``}
  `);
}

/** The user's account for this address in the tenant, if there is one. */
export function findMailAccountByAddress(
  tx: TenantConnection,
  owner: MailOwner,
  address: string,
  options: { lock?: boolean } = {},
): Promise<MailAccountRow | null> {
  return tx.maybeOne(sql.type(MailAccountRow)`
    SELECT ${columns} FROM mail_accounts
    WHERE tenant_id = ${owner.tenantId} AND user_id = ${owner.userId} AND address = ${address}
    ${options.lock ? sql.fragment`FOR UPDATE` : sql.fragment``}
  `);
}

/** A page of the user's accounts in the tenant, newest first. */
export function listMailAccounts(
  tx: TenantConnection,
  owner: MailOwner,
  query: { after?: PageCursor; limit: number },
): Promise<Page<MailAccountRow>> {
  return selectPage(tx, {
    table: 'mail_accounts',
    row: MailAccountRow,
    columns,
    conditions: [sql.fragment`tenant_id = ${owner.tenantId}`, sql.fragment`user_id = ${owner.userId}`],
    after: query.after,
    limit: query.limit,
  });
}

/** Records the status of an account, with the reason for it (or none). */
export function setMailAccountStatus(
  tx: TenantConnection,
  id: string,
  status: MailAccountStatus,
  reason: string | null,
): Promise<MailAccountRow | null> {
  return tx.maybeOne(sql.type(MailAccountRow)`
    UPDATE mail_accounts SET status = ${status}, status_reason = ${reason}, updated_at = now()
    WHERE id = ${id}
    RETURNING ${columns}
  `);
}

/**
 * The account is connected to this mailbox: its address is set, and it waits for the mailbox
 * workflow ('idle' until that workflow starts a sync). The history id and counters stay as they
 * were, so a reconnected account resumes where it stopped.
 */
export function markMailAccountConnected(tx: TenantConnection, id: string, address: string): Promise<MailAccountRow> {
  return tx.one(sql.type(MailAccountRow)`
    UPDATE mail_accounts
    SET address = ${address}, status = 'idle', status_reason = NULL, connected_at = now(), updated_at = now()
    WHERE id = ${id}
    RETURNING ${columns}
  `);
}

/** Removes the account, with its grant and sessions; false when the context sees no such account. */
export async function deleteMailAccount(tx: TenantConnection, id: string): Promise<boolean> {
  const result = await tx.query(sql.unsafe`DELETE FROM mail_accounts WHERE id = ${id}`);
  return result.rowCount > 0;
}

/** A sync of the account began: it shows as syncing, without a reason. */
export async function markMailAccountSyncing(tx: TenantConnection, id: string): Promise<boolean> {
  const result = await tx.query(sql.unsafe`
    UPDATE mail_accounts SET status = 'syncing', status_reason = NULL, updated_at = now()
    WHERE id = ${id} AND status <> 'disconnected'
  `);
  return result.rowCount > 0;
}

/**
 * A sync of the account ended: the history id the next one starts from, when it ended, and what
 * the account now holds; it shows as idle.
 */
export function markMailAccountSynced(
  tx: TenantConnection,
  id: string,
  historyId: string,
): Promise<MailAccountRow | null> {
  return tx.maybeOne(sql.type(MailAccountRow)`
    UPDATE mail_accounts
    SET status = 'idle', status_reason = NULL, history_id = ${historyId}, last_synced_at = now(), updated_at = now(),
        message_count = (SELECT count(*) FROM emails WHERE account_id = ${id}),
        attachment_count = (SELECT count(*) FROM email_attachments a JOIN emails e ON e.id = a.email_id
                            WHERE e.account_id = ${id})
    WHERE id = ${id} AND status <> 'disconnected'
    RETURNING ${columns}
  `);
}

/**
 * Gmail watches the mailbox for push notifications until `expiresAt` (the expiration users.watch
 * answered), or, with null, no watch Quarry set is known to be live (users.stop was called).
 */
export async function setMailAccountWatch(tx: TenantConnection, id: string, expiresAt: Date | null): Promise<boolean> {
  const result = await tx.query(sql.unsafe`
    UPDATE mail_accounts SET watch_expires_at = ${expiresAt ? sql.timestamp(expiresAt) : null}, updated_at = now()
    WHERE id = ${id}
  `);
  return result.rowCount > 0;
}

export const PushTarget = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  accountId: z.uuid(),
  historyId: z.string().nullable(),
});
export type PushTarget = z.infer<typeof PushTarget>;

/**
 * The connected accounts of a mailbox address, in every tenant and of every user, with the history
 * id each has synced to: what a Gmail push notification (verified first) needs to reach their
 * mailbox workflows, read through the narrow definer lookup of migrations/14_mail_push.sql, since
 * no tenant or user is known when Google pushes.
 */
export function findPushTargets(db: Pick<TenantConnection, 'any'>, address: string): Promise<readonly PushTarget[]> {
  return db.any(sql.type(PushTarget)`
    SELECT tenant_id AS "tenantId", user_id AS "userId", account_id AS "accountId", history_id AS "historyId"
    FROM mail_push_accounts(${address})
  `);
}
