// What every mailbox activity shares: its dependencies, the context it acts in (the account's
// tenant AND user: mail is its user's alone), the Gmail client made from the account's sealed
// grant, and the translation of Gmail's failures into what Temporal should do with them:
//   rate limit (429, 403 rateLimitExceeded)  retried, after Gmail's Retry-After (nextRetryDelay)
//   outage (network, 5xx)                    retried with the preset's backoff
//   invalid_grant                            the account needs re-auth: recorded, not retried
//   history too old (404)                    not retried: the workflow runs a full sync again
import { ApplicationFailure } from '@temporalio/common';
import type { Credentials } from 'google-auth-library';
import type { DatabasePool } from 'slonik';
import type { Config } from '../../config.ts';
import { setMailAccountStatus } from '../../db/queries/mail-accounts.ts';
import { findMailGrant } from '../../db/queries/mail-grants.ts';
import { withTenant, type TenantContext } from '../../db/with-tenant.ts';
import {
  GmailRateLimitedError,
  HistoryExpiredError,
  gmailMailboxClient,
  grantCredentials,
  type GmailMailboxClient,
} from '../../mail/gmail.ts';
import { GoogleOAuthRefusedError, type GoogleSettings } from '../../mail/google.ts';
import { tokenCipherOf } from '../../mail/token-cipher.ts';
import type { JobRef } from '../../contract/jobs.ts';
import type { MailboxRef } from '../../workflows/shared.ts';
import { FailureType, permanentFailure } from '../failure-types.ts';

export type MailActivityConfig = GoogleSettings &
  Pick<
    Config,
    'TOKEN_ENCRYPTION_KEY' | 'TOKEN_ENCRYPTION_PREVIOUS_KEYS' | 'MAIL_LIST_PAGE_SIZE' | 'MAIL_FETCH_CONCURRENCY'
  >;

/** The input of every mailbox step. */
export interface MailStep {
  readonly job: JobRef;
  readonly mailbox: MailboxRef;
}

export function mailScope(mailbox: MailboxRef): TenantContext {
  return { tenantId: mailbox.tenantId, userId: mailbox.userId };
}

/**
 * Gmail clients by account, each with the access token it last obtained, so that consecutive
 * activities on one worker do not refresh the token each time. A new grant (a reconnection)
 * replaces the cached client, as the refresh token differs.
 */
export function createGmailClients(pool: DatabasePool, config: MailActivityConfig) {
  const cipher = tokenCipherOf(config);
  const cached = new Map<string, { refreshToken: string; credentials: Credentials; client: GmailMailboxClient }>();

  return async function clientFor(mailbox: MailboxRef): Promise<GmailMailboxClient> {
    if (!cipher) throw permanentFailure(FailureType.MAIL_NOT_CONFIGURED, 'TOKEN_ENCRYPTION_KEY is not configured');
    const grant = await withTenant(pool, mailScope(mailbox), (tx) => findMailGrant(tx, mailbox.accountId));
    if (!grant) throw await needsReauth(pool, mailbox, 'The account has no grant: connect it again');
    const credentials = grantCredentials(cipher, mailbox.accountId, grant);
    const refreshToken = credentials.refresh_token;
    const hit = cached.get(mailbox.accountId);
    if (hit && hit.refreshToken === refreshToken) return hit.client;
    const client = gmailMailboxClient(config, credentials, (tokens) => Object.assign(credentials, tokens));
    cached.set(mailbox.accountId, { refreshToken, credentials, client });
    return client;
  };
}

/** Records that the account needs its user to connect it again; answers the failure to throw. */
export async function needsReauth(
  pool: DatabasePool,
  mailbox: MailboxRef,
  reason: string,
): Promise<ApplicationFailure> {
  await withTenant(pool, mailScope(mailbox), (tx) =>
    setMailAccountStatus(tx, mailbox.accountId, 'needs_reauth', reason),
  );
  return permanentFailure(FailureType.MAIL_NEEDS_REAUTH, reason);
}

/** Runs a Gmail call, turning Gmail's failures into what Temporal should do with them (above). */
export async function fromGmail<T>(pool: DatabasePool, mailbox: MailboxRef, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GmailRateLimitedError) {
      throw ApplicationFailure.create({
        type: 'gmail_rate_limited',
        message: error.message,
        ...(error.retryAfterMs === undefined ? {} : { nextRetryDelay: error.retryAfterMs }),
      });
    }
    if (error instanceof HistoryExpiredError) throw permanentFailure(FailureType.MAIL_HISTORY_EXPIRED, error.message);
    if (error instanceof GoogleOAuthRefusedError && error.error === 'invalid_grant') {
      throw await needsReauth(
        pool,
        mailbox,
        `Google refused the grant (invalid_grant${error.description ? `: ${error.description}` : ''}): connect the mailbox again`,
      );
    }
    throw error;
  }
}
