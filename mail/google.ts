// Google's side of a mail connection, through google-auth-library and @googleapis/gmail: the
// authorization URL of the code flow with PKCE (S256), the code exchange, the mailbox address
// (users.getProfile) and revocation. Every endpoint comes from the configuration, so tests and
// the offline demo point them at a stand-in server (devtools/google-stand-in/google-server.ts).
import { gmail } from '@googleapis/gmail';
import { GaxiosError } from 'gaxios';
import { CodeChallengeMethod, OAuth2Client } from 'google-auth-library';
import type { Config } from '../config.ts';

/** Read-only mail. users.getProfile answers the address under it, so no identity scope is asked for. */
export const GMAIL_READONLY_SCOPE = 'https://www.googleapis.com/auth/gmail.readonly';
export const MAIL_SCOPES = [GMAIL_READONLY_SCOPE] as const;

export type GoogleSettings = Pick<
  Config,
  | 'GOOGLE_OAUTH_CLIENT_ID'
  | 'GOOGLE_OAUTH_CLIENT_SECRET'
  | 'GOOGLE_OAUTH_REDIRECT_URI'
  | 'GOOGLE_AUTH_URL'
  | 'GOOGLE_TOKEN_URL'
  | 'GOOGLE_REVOKE_URL'
  | 'GMAIL_API_ROOT'
>;

/** Thrown when Google refuses an OAuth request (invalid_grant, invalid_client…): a permanent answer. */
export class GoogleOAuthRefusedError extends Error {
  constructor(
    readonly error: string,
    readonly description: string | null,
  ) {
    super(`Google refused the request: ${error}${description ? ` (${description})` : ''}`);
    this.name = 'GoogleOAuthRefusedError';
  }
}

/** Thrown when Google cannot be reached or answers 429 or 5xx: try again later. */
export class GoogleUnavailableError extends Error {
  constructor(
    readonly status: number | null,
    options?: ErrorOptions,
  ) {
    super(`Google is unavailable${status ? ` (HTTP ${status})` : ''}`, options);
    this.name = 'GoogleUnavailableError';
  }
}

/** Thrown when a token response lacks what a connection needs (a refresh token, the mail scope). */
export class IncompleteGrantError extends Error {
  constructor(
    readonly reason: 'no_refresh_token' | 'scope_not_granted' | 'no_access_token',
    message: string,
  ) {
    super(message);
    this.name = 'IncompleteGrantError';
  }
}

export interface MailGrant {
  readonly refreshToken: string;
  readonly accessToken: string;
  readonly accessTokenExpiresAt: Date;
  readonly scopes: readonly string[];
}

export interface MailboxProfile {
  readonly address: string;
  readonly historyId: string | null;
  readonly messagesTotal: number | null;
}

export interface GoogleMail {
  /** A PKCE code verifier and its S256 challenge. */
  codeVerifier(): Promise<{ codeVerifier: string; codeChallenge: string }>;
  authorizationUrl(options: { state: string; codeChallenge: string; loginHint?: string | null }): string;
  exchangeCode(code: string, codeVerifier: string): Promise<MailGrant>;
  profile(accessToken: string): Promise<MailboxProfile>;
  /** Revokes a token (and with a refresh token, the whole grant); one already invalid counts as revoked. */
  revoke(token: string): Promise<void>;
}

const OAuthErrorBody = (data: unknown): { error: string; description: string | null } | null => {
  if (!data || typeof data !== 'object') return null;
  const { error, error_description: description } = data as Record<string, unknown>;
  if (typeof error !== 'string') return null;
  return { error, description: typeof description === 'string' ? description : null };
};

/** Google's failure, classified: refused (4xx with an OAuth error) or unavailable (network, 429, 5xx). */
function classified(error: unknown): Error {
  if (!(error instanceof GaxiosError)) return error instanceof Error ? error : new Error(String(error));
  const status = error.response?.status ?? null;
  if (status === null || status === 429 || status >= 500) return new GoogleUnavailableError(status, { cause: error });
  const body = OAuthErrorBody(error.response?.data);
  return new GoogleOAuthRefusedError(body?.error ?? `http_${status}`, body?.description ?? null);
}

/** Google as the configuration describes it, or null when no OAuth client id is configured. */
export function googleMailOf(settings: GoogleSettings): GoogleMail | null {
  const clientId = settings.GOOGLE_OAUTH_CLIENT_ID;
  if (!clientId) return null;
  const client = () =>
    new OAuth2Client({
      clientId,
      clientSecret: settings.GOOGLE_OAUTH_CLIENT_SECRET,
      redirectUri: settings.GOOGLE_OAUTH_REDIRECT_URI,
      endpoints: {
        oauth2AuthBaseUrl: settings.GOOGLE_AUTH_URL,
        oauth2TokenUrl: settings.GOOGLE_TOKEN_URL,
        oauth2RevokeUrl: settings.GOOGLE_REVOKE_URL,
      },
    });
  return {
    async codeVerifier() {
      const { codeVerifier, codeChallenge } = await client().generateCodeVerifierAsync();
      if (!codeChallenge) throw new Error('google-auth-library made no S256 code challenge');
      return { codeVerifier, codeChallenge };
    },
    authorizationUrl: ({ state, codeChallenge, loginHint }) =>
      client().generateAuthUrl({
        // A refresh token, and a new one on every consent: reconnecting must replace a dead grant.
        access_type: 'offline',
        prompt: 'consent',
        scope: [...MAIL_SCOPES],
        state,
        code_challenge: codeChallenge,
        code_challenge_method: CodeChallengeMethod.S256,
        ...(loginHint ? { login_hint: loginHint } : {}),
      }),
    async exchangeCode(code, codeVerifier) {
      let tokens;
      try {
        ({ tokens } = await client().getToken({ code, codeVerifier }));
      } catch (error) {
        throw classified(error);
      }
      // With granular consent a user may grant fewer scopes than asked for.
      const scopes = (tokens.scope ?? '').split(/\s+/).filter(Boolean);
      if (!scopes.includes(GMAIL_READONLY_SCOPE)) {
        throw new IncompleteGrantError('scope_not_granted', 'Read access to Gmail was not granted');
      }
      if (!tokens.refresh_token) {
        throw new IncompleteGrantError('no_refresh_token', 'Google issued no refresh token for offline access');
      }
      if (!tokens.access_token) throw new IncompleteGrantError('no_access_token', 'Google issued no access token');
      return {
        refreshToken: tokens.refresh_token,
        accessToken: tokens.access_token,
        accessTokenExpiresAt: new Date(tokens.expiry_date ?? Date.now() + 3600_000),
        scopes,
      };
    },
    async profile(accessToken) {
      const auth = client();
      auth.setCredentials({ access_token: accessToken });
      try {
        const api = gmail({ version: 'v1', auth, rootUrl: settings.GMAIL_API_ROOT });
        const { data } = await api.users.getProfile({ userId: 'me' });
        if (!data.emailAddress) throw new Error('users.getProfile answered no emailAddress');
        return {
          address: data.emailAddress.toLowerCase(),
          historyId: data.historyId ?? null,
          messagesTotal: data.messagesTotal ?? null,
        };
      } catch (error) {
        throw classified(error);
      }
    },
    revoke: (token) => revokeGoogleToken(settings.GOOGLE_REVOKE_URL, token),
  };
}

/**
 * Revokes a token at Google's revoke endpoint (a refresh token ends the whole grant); one already
 * invalid counts as revoked. Needs no client id. The token goes in the body, not in the query
 * string where OAuth2Client.revokeToken puts it (and where access logs keep it).
 */
export async function revokeGoogleToken(revokeUrl: string, token: string): Promise<void> {
  try {
    await new OAuth2Client().transporter.request({
      url: revokeUrl,
      method: 'POST',
      data: new URLSearchParams({ token }),
    });
  } catch (error) {
    const failure = classified(error);
    // Google answers 400 invalid_token for a token already revoked or expired: it is gone.
    if (failure instanceof GoogleOAuthRefusedError && failure.error === 'invalid_token') return;
    throw failure;
  }
}
