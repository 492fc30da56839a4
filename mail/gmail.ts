// Reading a mailbox through @googleapis/gmail with a stored grant: the calls a sync makes
// (users.getProfile, messages.list, messages.get, messages.attachments.get, history.list), the
// push notifications' watch (users.watch, users.stop), and Gmail's failures sorted into what a
// sync does about them. google-auth-library refreshes the
// access token with the refresh token when it has expired or Gmail answers 401; a refresh Google
// refuses (invalid_grant: revoked, or a testing app's 7-day expiry) is GoogleOAuthRefusedError.
// Gmail's own retries are off: Temporal retries, honouring Retry-After.
import { gmail, type gmail_v1 } from '@googleapis/gmail';
import { GaxiosError } from 'gaxios';
import { OAuth2Client, type Credentials } from 'google-auth-library';
import { retryAfterMs } from '../rag/provider/retry-after.ts';
import { GoogleOAuthRefusedError, GoogleUnavailableError, type GoogleSettings } from './google.ts';
import { sealContext, type TokenCipher } from './token-cipher.ts';

/** Thrown when Gmail answers 429, or 403 with a rate-limit reason: wait (`retryAfterMs` if it said). */
export class GmailRateLimitedError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(
      `Gmail rate limit (HTTP ${status} ${reason})${retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`}`,
    );
    this.name = 'GmailRateLimitedError';
  }
}

/** Thrown when Gmail refuses one request for good (a 4xx other than a rate limit, 401 or 404). */
export class GmailRequestError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string | null,
    message: string,
  ) {
    super(`Gmail refused the request (HTTP ${status}${reason ? ` ${reason}` : ''}): ${message}`);
    this.name = 'GmailRequestError';
  }
}

/** Thrown when users.history.list does not know the start history id any more (Gmail's 404). */
export class HistoryExpiredError extends Error {
  constructor(readonly startHistoryId: string) {
    super(`Gmail no longer has the history from ${startHistoryId}`);
    this.name = 'HistoryExpiredError';
  }
}

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

/** Gmail's error, sorted: rate limit, outage, OAuth refusal, not found (null) or refusal. */
function classified(error: unknown): Error | null {
  if (!(error instanceof GaxiosError)) return error instanceof Error ? error : new Error(String(error));
  const status = error.response?.status ?? null;
  const data = error.response?.data as
    { error?: string | { message?: string; errors?: { reason?: string }[] }; error_description?: string } | undefined;
  if (typeof data?.error === 'string') return new GoogleOAuthRefusedError(data.error, data.error_description ?? null);
  const reason = (typeof data?.error === 'object' ? data.error.errors?.[0]?.reason : undefined) ?? null;
  const wait = retryAfterMs(error.response?.headers);
  if (status === 429 || (status === 403 && reason !== null && RATE_LIMIT_REASONS.has(reason))) {
    return new GmailRateLimitedError(status, reason ?? 'rateLimitExceeded', wait);
  }
  if (status === null || status >= 500) return new GoogleUnavailableError(status, { cause: error });
  if (status === 404) return null;
  const message = (typeof data?.error === 'object' ? data.error.message : undefined) ?? error.message;
  return new GmailRequestError(status, reason, message);
}

async function call<T>(request: () => Promise<{ data: T }>): Promise<T | null> {
  try {
    return (await request()).data;
  } catch (error) {
    const failure = classified(error);
    if (failure === null) return null;
    throw failure;
  }
}

export interface RawMessage {
  readonly id: string;
  readonly threadId: string;
  readonly labelIds: readonly string[];
  readonly internalDate: Date | null;
  readonly raw: Buffer;
}

export interface HistoryPage {
  /** Messages added, in history order (each once). */
  readonly added: readonly string[];
  readonly deleted: readonly string[];
  /** Label changes, in history order. */
  readonly labelChanges: readonly { messageId: string; added: readonly string[]; removed: readonly string[] }[];
  readonly nextPageToken: string | null;
  /** The mailbox's history id when the page was read. */
  readonly historyId: string;
}

export interface GmailMailboxClient {
  profile(): Promise<{ historyId: string; messagesTotal: number | null }>;
  listMessages(pageToken: string | null, maxResults: number): Promise<{ ids: string[]; nextPageToken: string | null }>;
  /** The message as RFC 822 bytes with its labels; null when it is gone. */
  rawMessage(id: string): Promise<RawMessage | null>;
  /** The message's labels only (format=minimal); null when it is gone. */
  labels(id: string): Promise<readonly string[] | null>;
  attachment(messageId: string, attachmentId: string): Promise<Buffer | null>;
  /** A page of history after `startHistoryId`; HistoryExpiredError when Gmail has it no more. */
  history(startHistoryId: string, pageToken: string | null): Promise<HistoryPage>;
  /**
   * users.watch: Gmail publishes every change of the mailbox (no label filter) to the Pub/Sub
   * topic until `expiration`. GmailRequestError when Gmail refuses (a topic it cannot publish to).
   */
  watch(topicName: string): Promise<MailboxWatch>;
  /** users.stop: Gmail publishes the mailbox's changes no more. */
  stop(): Promise<void>;
}

export interface MailboxWatch {
  readonly expiration: Date;
  /** The mailbox's history id when the watch began (what a sync starts from is the sync's own). */
  readonly historyId: string;
}

const HISTORY_TYPES = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];

/** An account's grant as it is stored (mail_grants): its tokens sealed under one key. */
export interface SealedGrantTokens {
  readonly keyId: string;
  readonly refreshTokenCiphertext: Buffer;
  readonly accessTokenCiphertext: Buffer | null;
  readonly accessTokenExpiresAt: Date | null;
}

/** The credentials of an account's grant, opened: its refresh token, and its access token if it has one. */
export function grantCredentials(
  cipher: TokenCipher,
  accountId: string,
  grant: SealedGrantTokens,
): Credentials & { refresh_token: string } {
  const credentials: Credentials & { refresh_token: string } = {
    refresh_token: cipher.open(
      { keyId: grant.keyId, ciphertext: grant.refreshTokenCiphertext },
      sealContext.refreshToken(accountId),
    ),
  };
  if (grant.accessTokenCiphertext && grant.accessTokenExpiresAt) {
    credentials.access_token = cipher.open(
      { keyId: grant.keyId, ciphertext: grant.accessTokenCiphertext },
      sealContext.accessToken(accountId),
    );
    credentials.expiry_date = grant.accessTokenExpiresAt.getTime();
  }
  return credentials;
}

/**
 * A Gmail client for one grant. `onTokens` learns of every access token google-auth-library
 * obtains by refreshing, so that the caller can keep it for the next activity.
 */
export function gmailMailboxClient(
  settings: GoogleSettings,
  credentials: Credentials,
  onTokens: (tokens: Credentials) => void = () => {},
): GmailMailboxClient {
  const auth = new OAuth2Client({
    // A 401 refreshes the access token and tries again even before its recorded expiry.
    forceRefreshOnFailure: true,
    clientId: settings.GOOGLE_OAUTH_CLIENT_ID,
    clientSecret: settings.GOOGLE_OAUTH_CLIENT_SECRET,
    redirectUri: settings.GOOGLE_OAUTH_REDIRECT_URI,
    endpoints: {
      oauth2AuthBaseUrl: settings.GOOGLE_AUTH_URL,
      oauth2TokenUrl: settings.GOOGLE_TOKEN_URL,
      oauth2RevokeUrl: settings.GOOGLE_REVOKE_URL,
    },
  });
  auth.setCredentials(credentials);
  auth.on('tokens', onTokens);
  const api = gmail({ version: 'v1', auth, rootUrl: settings.GMAIL_API_ROOT, retry: false });
  const users = api.users;
  return {
    async profile() {
      const data = await call(() => users.getProfile({ userId: 'me' }));
      if (!data?.historyId) throw new Error('users.getProfile answered no historyId');
      return { historyId: data.historyId, messagesTotal: data.messagesTotal ?? null };
    },
    async listMessages(pageToken, maxResults) {
      const data = await call(() =>
        users.messages.list({ userId: 'me', maxResults, ...(pageToken ? { pageToken } : {}) }),
      );
      return {
        ids: (data?.messages ?? []).map((message) => message.id).filter((id): id is string => !!id),
        nextPageToken: data?.nextPageToken ?? null,
      };
    },
    async rawMessage(id) {
      const data = await call(() => users.messages.get({ userId: 'me', id, format: 'raw' }));
      if (!data?.raw) return null;
      return {
        id,
        threadId: data.threadId ?? id,
        labelIds: data.labelIds ?? [],
        internalDate: data.internalDate ? new Date(Number(data.internalDate)) : null,
        raw: Buffer.from(data.raw, 'base64url'),
      };
    },
    async labels(id) {
      const data = await call(() => users.messages.get({ userId: 'me', id, format: 'minimal' }));
      return data ? (data.labelIds ?? []) : null;
    },
    async attachment(messageId, attachmentId) {
      const data = await call(() => users.messages.attachments.get({ userId: 'me', messageId, id: attachmentId }));
      return data?.data ? Buffer.from(data.data, 'base64url') : null;
    },
    async history(startHistoryId, pageToken) {
      const data = await call(() =>
        users.history.list({
          userId: 'me',
          startHistoryId,
          historyTypes: HISTORY_TYPES,
          maxResults: 500,
          ...(pageToken ? { pageToken } : {}),
        }),
      );
      if (!data) throw new HistoryExpiredError(startHistoryId);
      return historyPage(data);
    },
    async watch(topicName) {
      // Every change, as incremental sync reads every change: a filter on INBOX would not announce
      // mail sent, archived, relabelled or deleted outside it.
      const data = await call(() => users.watch({ userId: 'me', requestBody: { topicName } }));
      if (!data) throw new GmailRequestError(404, 'notFound', 'users.watch found no such mailbox or topic');
      const expiration = Number(data.expiration);
      if (!data.historyId || !data.expiration || !Number.isFinite(expiration))
        throw new Error('users.watch answered no expiration');
      return { expiration: new Date(expiration), historyId: data.historyId };
    },
    async stop() {
      await call(() => users.stop({ userId: 'me' }));
    },
  };
}

function historyPage(data: gmail_v1.Schema$ListHistoryResponse): HistoryPage {
  const added: string[] = [];
  const deleted: string[] = [];
  const labelChanges: { messageId: string; added: string[]; removed: string[] }[] = [];
  for (const record of data.history ?? []) {
    for (const { message } of record.messagesAdded ?? []) if (message?.id) added.push(message.id);
    for (const { message } of record.messagesDeleted ?? []) if (message?.id) deleted.push(message.id);
    for (const change of record.labelsAdded ?? []) {
      if (change.message?.id)
        labelChanges.push({ messageId: change.message.id, added: change.labelIds ?? [], removed: [] });
    }
    for (const change of record.labelsRemoved ?? []) {
      if (change.message?.id)
        labelChanges.push({ messageId: change.message.id, added: [], removed: change.labelIds ?? [] });
    }
  }
  return {
    added: [...new Set(added)],
    deleted: [...new Set(deleted)],
    labelChanges,
    nextPageToken: data.nextPageToken ?? null,
    historyId: data.historyId ?? '0',
  };
}
