// Contracts of /v1/mail: a signed-in user's own mail accounts in the selected tenant, and the
// OAuth callback Google redirects the user's browser to. No answer ever carries a token.
import { z } from 'zod';
import { MAIL_ACCOUNT_STATUSES, MailAccountRow } from '../../../db/queries/mail-accounts.ts';
import type { Contract } from '../../openapi/contract.ts';
import { JobWithEvents } from '../jobs/schema.ts';
import { pageQuery, pageSchema } from '../../paging.ts';
import { Email, Timestamp, Uuid } from '../../schemas.ts';

export const MailAccount = MailAccountRow.extend({
  address: z.string().nullable().meta({ description: 'The Gmail address; null until the first connection completes' }),
  status: z.enum(MAIL_ACCOUNT_STATUSES).meta({
    description:
      'connecting (waiting for Google), idle (connected, between syncs), syncing, needs_reauth (Google ' +
      'refused the grant: connect again), error, disconnected (kept after disconnecting with keep=true)',
  }),
  statusReason: z.string().nullable().meta({ description: 'Why the account is in its status, when it says' }),
  historyId: z.string().nullable().meta({ description: 'Gmail history id the next incremental sync starts from' }),
  lastSyncedAt: Timestamp.nullable(),
  connectedAt: Timestamp.nullable().meta({ description: 'When Google last granted access' }),
  watchExpiresAt: Timestamp.nullable().meta({
    description:
      'Until when Gmail publishes the mailbox’s changes for push notifications (the users.watch Quarry renews ' +
      'daily when MAIL_PUSH_TOPIC is set); null when Quarry has set no watch, or stopped it',
  }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).meta({ id: 'MailAccount' });
export type MailAccount = z.infer<typeof MailAccount>;

export const MailAccountDetail = MailAccount.extend({
  sync: JobWithEvents.nullable().meta({
    description:
      'The latest run of the account’s mailbox workflow (a job private to its user) and its last 100 step events, ' +
      'oldest first; null before the workflow first ran',
  }),
}).meta({ id: 'MailAccountDetail' });
export type MailAccountDetail = z.infer<typeof MailAccountDetail>;

export const MailConnection = z
  .object({
    account: MailAccount,
    authorizationUrl: z.url().meta({ description: 'Send the user’s browser here to grant read access to Gmail' }),
    expiresAt: Timestamp.meta({ description: 'Until when the authorization may be completed' }),
  })
  .meta({ id: 'MailConnection' });
export type MailConnection = z.infer<typeof MailConnection>;

export const MailAccountPage = pageSchema('MailAccountPage', 'accounts', MailAccount);
export type MailAccountPage = z.infer<typeof MailAccountPage>;

const AccountParams = z.object({ accountId: Uuid });

export const ConnectMailAccount = {
  summary: 'Start connecting a Gmail mailbox (OAuth 2.0 with PKCE)',
  description:
    'Answers the Google authorization URL and the account it will connect. With `address`, an account of the ' +
    'caller for that address (one that needs re-authorization, say) is reused, and Google is told which ' +
    'account to offer. The authorization is single use and expires. Answers 501 `mail_not_configured` when ' +
    'the deployment has no Google OAuth client or no TOKEN_ENCRYPTION_KEY.',
  body: z.strictObject({ address: Email.optional().meta({ description: 'The Gmail address to (re)connect' }) }),
  responses: { 201: { description: 'The authorization to complete at Google', schema: MailConnection } },
  errors: [501],
} satisfies Contract;

export const OAuthCallback = {
  summary: 'Google’s redirect at the end of the authorization',
  description:
    'Exchanges the code (with the PKCE verifier kept server-side), reads the mailbox address and stores the ' +
    'grant encrypted. A state that is unknown, already used or expired is a 400 (`oauth_state_invalid`, ' +
    '`oauth_state_used`, `oauth_state_expired`) and stores nothing; a refusal at Google is 400 ' +
    '`oauth_access_denied`; a code Google does not accept is 400 `oauth_code_rejected`; a grant without ' +
    'read access to Gmail is 400 `oauth_scope_not_granted`. Reconnecting with another Google account than ' +
    'the account’s is 409 `mail_address_mismatch`.',
  query: z.object({
    state: z.string().max(512).optional(),
    code: z.string().max(4096).optional(),
    error: z.string().max(200).optional(),
    error_description: z.string().max(2000).optional(),
  }),
  responses: { 200: { description: 'The connected account', schema: MailAccount } },
  errors: [409, 501, 503],
} satisfies Contract;

export const ListMailAccounts = {
  summary: 'The caller’s mail accounts in the tenant, newest first',
  query: z.object(pageQuery),
  responses: { 200: { description: 'One page of accounts', schema: MailAccountPage } },
} satisfies Contract;

export const GetMailAccount = {
  summary: 'A mail account: its status, history id, last sync and counts, and its sync’s step history',
  description: 'Another user’s account, even in the same tenant and for its owners, is answered 404.',
  params: AccountParams,
  responses: { 200: { description: 'The account', schema: MailAccountDetail } },
} satisfies Contract;

export const DisconnectMailAccount = {
  summary: 'Disconnect a mail account',
  description:
    'Revokes the grant at Google and removes it, and stops the account’s mailbox workflow. With keep=false ' +
    '(the default) the workflow removes the account with everything synced from it (emails, attachments, ' +
    'their documents, chunks, vectors and blobs); with keep=true the account stays, `disconnected`, with its ' +
    'mail, and can be connected again. Answers 204 once that is done, 202 while the workflow is still at it. ' +
    'Answers 503 `google_unavailable` and changes nothing when Google cannot be reached.',
  params: AccountParams,
  query: z.object({
    keep: z
      .enum(['true', 'false'])
      .default('false')
      .transform((value) => value === 'true')
      .meta({ description: 'Keep the account and its mail (default false: delete them)' }),
  }),
  responses: {
    204: { description: 'The account is disconnected, and its mail removed (or kept)' },
    202: {
      description: 'The account is disconnected; its mailbox workflow is still removing its mail',
      schema: MailAccount,
    },
  },
  errors: [404, 503],
} satisfies Contract;

export const SyncMailAccount = {
  summary: 'Sync a mail account now',
  description:
    'Signals the account’s mailbox workflow to sync now instead of at its next timer (starting the workflow ' +
    'if it is not running). A sync under way finishes first, and the one asked for follows. An account that ' +
    'is disconnected or not yet connected is 409 `mail_account_not_connected`.',
  params: AccountParams,
  responses: { 202: { description: 'The sync is asked for; the account as it stands', schema: MailAccount } },
  errors: [404, 409, 503],
} satisfies Contract;

/** Gmail's history id: an unsigned 64-bit number, sent as a JSON number (or its decimal string). */
const HistoryId = z
  .union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[0-9]{1,20}$/)])
  .transform(String);

/** What Gmail publishes on the watch topic: the mailbox that changed and its history id now. */
export const GmailNotification = z.object({ emailAddress: Email, historyId: HistoryId });
export type GmailNotification = z.infer<typeof GmailNotification>;

/** A Pub/Sub message's data: base64 of the notification's JSON, decoded and checked. */
const NotificationData = z
  .string()
  .max(4096)
  .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64')
  .transform((data, ctx) => {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be base64 of a JSON object' });
      return z.NEVER;
    }
    const parsed = GmailNotification.safeParse(decoded);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  })
  .meta({ description: 'base64 of `{"emailAddress": "…", "historyId": …}`, as Gmail publishes it' });

export const MailPush = {
  summary: 'A Gmail push notification (Cloud Pub/Sub push subscription)',
  description:
    'Google’s Pub/Sub delivers the notifications Gmail publishes for a watched mailbox here, signed with an OIDC ' +
    'ID token in `Authorization: Bearer` (issued by accounts.google.com for the audience MAIL_PUSH_AUDIENCE, ' +
    '`email` the push service account MAIL_PUSH_SERVICE_ACCOUNT, verified). Every connected account of that ' +
    'address whose sync is behind the notification’s history id is told to sync now (its mailbox workflow’s ' +
    '`syncNow` signal). Answers 204, which acknowledges the message, also for an address no account has (it ' +
    'could never succeed, and Pub/Sub retries what is not acknowledged). A token that is missing or does not ' +
    'verify is 401 `invalid_push_token`; a body that is not a push message, 400; Temporal or Google’s ' +
    'certificates unreachable, 503 with Retry-After (Pub/Sub retries). Without MAIL_PUSH_AUDIENCE and ' +
    'MAIL_PUSH_SERVICE_ACCOUNT push is off: 404 `mail_push_not_configured`.',
  body: z.object({
    message: z.object({
      data: NotificationData,
      messageId: z.string().max(200).optional(),
      publishTime: z.string().max(100).optional(),
      attributes: z.record(z.string(), z.string().max(1000)).optional(),
    }),
    subscription: z.string().max(1000).optional(),
  }),
  responses: { 204: { description: 'Acknowledged: the accounts of the address (if any) sync now' } },
  errors: [401, 404, 503],
} satisfies Contract;
