// A stand-in for Google's OAuth 2.0 endpoints and the Gmail REST API, speaking their real HTTP
// protocol so that the real google-auth-library and @googleapis/gmail clients talk to it:
//   GET  /o/oauth2/v2/auth          the consent page: redirects to redirect_uri with a code (or
//                                   error=access_denied after `denyNextAuthorization`)
//   POST /token                     authorization_code (client, redirect URI and PKCE S256
//                                   checked) and refresh_token grants; `failNextToken` on demand
//   POST /revoke                    a refresh token revokes its grant and its access tokens
//   GET  /gmail/v1/users/me/profile the mailbox's address, counts and history id
//   GET  /gmail/v1/users/me/messages                    messages.list (maxResults, pageToken)
//   GET  /gmail/v1/users/me/messages/:id                messages.get (format raw, minimal, metadata)
//   GET  /gmail/v1/users/me/messages/:id/attachments/:a messages.attachments.get
//   GET  /gmail/v1/users/me/history                     history.list (startHistoryId, pageToken;
//                                                       404 for a start id older than the history)
//   POST /gmail/v1/users/me/watch                       users.watch (topicName, labelIds): the
//                                                       mailbox's watch, for `watchLifetimeMs`
//   POST /gmail/v1/users/me/stop                        users.stop: the watch ends
//   GET  /oauth2/v1/certs           the keys Google signs ID tokens with, PEM by key id, as
//                                   googleapis.com serves them: `pushToken` mints a push
//                                   subscription's OIDC token with one, `pushBody` the message
// Each user's mailbox is a GmailMailbox (gmail-mailbox.ts), which a test changes at will. Faults
// on demand: `failNextGmail` (429 with Retry-After, 403 rateLimitExceeded, 5xx, or any refusal),
// a mailbox's `failMessage` (a 400 for one message), and `failNextToken` (invalid_grant). Tests
// inspect `requests` (with their JSON bodies) and each mailbox's `watch`.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type Attachment } from 'mailparser';
import { GmailMailbox, type HistoryRecord, type MailboxMessage } from './gmail-mailbox.ts';

export interface RecordedGoogleRequest {
  readonly method: string;
  readonly path: string;
  /** The query string and the form body, merged. */
  readonly params: Readonly<Record<string, string>>;
  /** A JSON body, parsed (users.watch's). */
  readonly body?: unknown;
  /** The address of the mailbox a Gmail API request was for. */
  readonly mailbox?: string;
  readonly authorization: string | undefined;
  readonly status: number;
}

interface AuthorizationCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string | null;
  readonly codeChallengeMethod: string | null;
  readonly scopes: readonly string[];
  readonly email: string;
  used: boolean;
}

interface Grant {
  readonly email: string;
  readonly scopes: readonly string[];
  readonly refreshToken: string;
  readonly accessTokens: Set<string>;
  revoked: boolean;
}

export interface GoogleStandInOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Who signs in at the consent page unless a test says otherwise. */
  readonly defaultEmail?: string;
}

/** A Gmail API answer in place of the real one: a rate limit (429, or 403 with its reason) or an outage. */
export interface GmailFault {
  readonly status: number;
  /** Gmail's reason: rateLimitExceeded, userRateLimitExceeded, backendError… */
  readonly reason?: string;
  /** Gmail's message (by default one for the rate limit or the backend error). */
  readonly message?: string;
  readonly retryAfterSeconds?: number;
  /** Only requests whose path matches (all Gmail requests by default). */
  readonly path?: RegExp;
}

/** The service account the stand-in's Pub/Sub push subscription signs as, unless a test says otherwise. */
export const PUSH_SERVICE_ACCOUNT = 'gmail-push@quarry-test.iam.gserviceaccount.com';

/** What a minted push token says, beside the defaults of a valid one (`exp` and `iat` in epoch seconds). */
export interface PushTokenClaims {
  readonly aud: string;
  readonly email?: string;
  readonly email_verified?: boolean;
  readonly iss?: string;
  readonly iat?: number;
  readonly exp?: number;
}

/** A Pub/Sub push request's body for a Gmail notification, as Google sends it (camelCase and snake_case ids). */
export function pushBody(notification: { emailAddress: string; historyId: string | number | bigint }) {
  const data = Buffer.from(
    JSON.stringify({ emailAddress: notification.emailAddress, historyId: Number(notification.historyId) }),
  ).toString('base64');
  const messageId = String(Math.floor(Math.random() * 1e15));
  const publishTime = new Date().toISOString();
  return {
    message: { data, messageId, message_id: messageId, publishTime, publish_time: publishTime },
    subscription: 'projects/quarry-test/subscriptions/gmail-push',
  };
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicPem: string;
}

function signingKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid: randomBytes(20).toString('hex'),
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export interface OAuthFault {
  readonly status: number;
  readonly error: string;
  readonly description?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(JSON.stringify(body));
  }
}

const oauthError = (status: number, error: string, description?: string) =>
  new HttpError(status, { error, ...(description ? { error_description: description } : {}) });

/** base64url(SHA-256(verifier)), RFC 7636's S256. */
export const s256 = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

const token = (prefix: string) => `${prefix}${randomBytes(24).toString('base64url')}`;

export class GoogleStandIn {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly requests: RecordedGoogleRequest[] = [];
  readonly mailboxes = new Map<string, GmailMailbox>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly grants = new Map<string, Grant>();
  private readonly accessTokens = new Map<string, { grant: Grant; expiresAt: number }>();
  private readonly tokenFaults: OAuthFault[] = [];
  private readonly gmailFaults: GmailFault[] = [];
  /** How long a users.watch lasts: Gmail's 7 days unless a test shortens it. */
  watchLifetimeMs = 7 * 24 * 3600_000;

  /** The key the certs endpoint serves, and one it does not (a forger's). */
  private readonly idTokenKey = signingKey();
  private readonly foreignKey = signingKey();
  private denyNext = false;
  private nextEmail: string | undefined;
  private readonly defaultEmail: string;
  private server: Server | undefined;

  constructor(options: GoogleStandInOptions = {}) {
    this.clientId = options.clientId ?? 'stand-in-client.apps.googleusercontent.com';
    this.clientSecret = options.clientSecret ?? 'stand-in-secret';
    this.defaultEmail = options.defaultEmail ?? 'someone@gmail.test';
  }

  /** Listens on 127.0.0.1, on `port` (a free one by default); answers the base URL. */
  async start(port = 0): Promise<string> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => response.destroy(error as Error));
    });
    this.server = server;
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return this.baseUrl;
  }

  get baseUrl(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('the Google stand-in is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** The Quarry settings that point the API at this stand-in. */
  settings(redirectUri = 'http://127.0.0.1:1/v1/mail/oauth/callback'): Record<string, string> {
    return {
      GOOGLE_OAUTH_CLIENT_ID: this.clientId,
      GOOGLE_OAUTH_CLIENT_SECRET: this.clientSecret,
      GOOGLE_OAUTH_REDIRECT_URI: redirectUri,
      GOOGLE_AUTH_URL: `${this.baseUrl}/o/oauth2/v2/auth`,
      GOOGLE_TOKEN_URL: `${this.baseUrl}/token`,
      GOOGLE_REVOKE_URL: `${this.baseUrl}/revoke`,
      GMAIL_API_ROOT: `${this.baseUrl}/`,
    };
  }

  /** The settings that turn Gmail push on against this stand-in's keys, for `audience`. */
  pushSettings(audience: string, serviceAccount = PUSH_SERVICE_ACCOUNT): Record<string, string> {
    return {
      MAIL_PUSH_AUDIENCE: audience,
      MAIL_PUSH_SERVICE_ACCOUNT: serviceAccount,
      MAIL_PUSH_CERTS_URL: `${this.baseUrl}/oauth2/v1/certs`,
    };
  }

  /**
   * An OIDC ID token as Pub/Sub signs a push with (RS256, issued by accounts.google.com for the
   * push service account, valid for an hour), with `claims` over those defaults; `foreign` signs it
   * with a key the certs endpoint does not serve.
   */
  pushToken(claims: PushTokenClaims, options: { foreign?: boolean } = {}): string {
    const key = options.foreign ? this.foreignKey : this.idTokenKey;
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: 'https://accounts.google.com',
      azp: '111111111111111111111',
      sub: '111111111111111111111',
      email: PUSH_SERVICE_ACCOUNT,
      email_verified: true,
      iat: now,
      exp: now + 3600,
      ...claims,
    };
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const signed = `${encode({ alg: 'RS256', kid: key.kid, typ: 'JWT' })}.${encode(payload)}`;
    return `${signed}.${sign('RSA-SHA256', Buffer.from(signed), key.privateKey).toString('base64url')}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  /** The mailbox of `email`, created empty on first use. */
  mailbox(email: string): GmailMailbox {
    let mailbox = this.mailboxes.get(email);
    if (!mailbox) this.mailboxes.set(email, (mailbox = new GmailMailbox(email)));
    return mailbox;
  }

  /** The next consent is given by this user (instead of the default one). */
  signInAs(email: string): void {
    this.nextEmail = email;
  }

  /** The next consent is refused: the redirect carries error=access_denied. */
  denyNextAuthorization(): void {
    this.denyNext = true;
  }

  /** The next token request fails with this OAuth error (invalid_grant, say) instead of its answer. */
  failNextToken(
    fault: OAuthFault = { status: 400, error: 'invalid_grant', description: 'Token has been expired or revoked.' },
  ): void {
    this.tokenFaults.push(fault);
  }

  /** The next `times` Gmail API requests (matching `fault.path`) fail with this fault. */
  failNextGmail(fault: GmailFault, times = 1): void {
    for (let i = 0; i < times; i += 1) this.gmailFaults.push(fault);
  }

  /** Revokes every grant of the user, as removing the app in their Google account does. */
  revokeGrantsOf(email: string): void {
    for (const grant of this.grants.values()) if (grant.email === email) this.revoke(grant);
  }

  /** Every grant the stand-in has issued, with whether it is revoked. */
  grantsOf(email: string): readonly { refreshToken: string; revoked: boolean; scopes: readonly string[] }[] {
    return [...this.grants.values()].filter((grant) => grant.email === email);
  }

  /**
   * What the consent page does, without a browser: a code for the authorization URL the client
   * made, and the redirect URL Google would send the browser to.
   */
  authorize(
    authorizationUrl: string,
    options: { email?: string; scopes?: readonly string[]; deny?: boolean } = {},
  ): string {
    const url = new URL(authorizationUrl);
    const params = Object.fromEntries(url.searchParams);
    return this.consent(params, options);
  }

  private consent(
    params: Record<string, string>,
    options: { email?: string; scopes?: readonly string[]; deny?: boolean },
  ): string {
    const { client_id: clientId, redirect_uri: redirectUri, state, scope } = params;
    if (clientId !== this.clientId) throw oauthError(400, 'invalid_client', 'The OAuth client was not found.');
    if (!redirectUri) throw oauthError(400, 'invalid_request', 'Missing required parameter: redirect_uri');
    if (params.response_type !== 'code') throw oauthError(400, 'unsupported_response_type');
    const back = new URL(redirectUri);
    if (state !== undefined) back.searchParams.set('state', state);
    if (options.deny || this.denyNext) {
      this.denyNext = false;
      back.searchParams.set('error', 'access_denied');
      return back.toString();
    }
    const code = token('4/0A');
    this.codes.set(code, {
      clientId,
      redirectUri,
      codeChallenge: params.code_challenge ?? null,
      codeChallengeMethod: params.code_challenge_method ?? null,
      scopes: options.scopes ?? (scope ?? '').split(' ').filter(Boolean),
      email: options.email ?? this.nextEmail ?? this.defaultEmail,
      used: false,
    });
    this.nextEmail = undefined;
    back.searchParams.set('code', code);
    back.searchParams.set('scope', (options.scopes ?? (scope ?? '').split(' ')).join(' '));
    return back.toString();
  }

  private revoke(grant: Grant): void {
    grant.revoked = true;
    for (const access of grant.accessTokens) this.accessTokens.delete(access);
  }

  private issueAccessToken(grant: Grant): { access_token: string; expires_in: number } {
    const access = token('ya29.');
    grant.accessTokens.add(access);
    this.accessTokens.set(access, { grant, expiresAt: Date.now() + 3599_000 });
    return { access_token: access, expires_in: 3599 };
  }

  private checkClient(params: Record<string, string>, authorization: string | undefined): void {
    let { client_id: id, client_secret: secret } = params;
    if (authorization?.startsWith('Basic ')) {
      [id, secret] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
    }
    if (id !== this.clientId || secret !== this.clientSecret) {
      throw oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    }
  }

  private tokenEndpoint(params: Record<string, string>, authorization: string | undefined): Record<string, unknown> {
    this.checkClient(params, authorization);
    const fault = this.tokenFaults.shift();
    if (fault) throw oauthError(fault.status, fault.error, fault.description);
    if (params.grant_type === 'authorization_code') {
      const code = this.codes.get(params.code ?? '');
      if (!code || code.used) throw oauthError(400, 'invalid_grant', 'Malformed auth code.');
      code.used = true;
      if (code.clientId !== params.client_id && authorization === undefined) throw oauthError(400, 'invalid_grant');
      if (code.redirectUri !== params.redirect_uri) throw oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
      if (code.codeChallenge !== null) {
        const verifier = params.code_verifier;
        if (!verifier) throw oauthError(400, 'invalid_grant', 'Missing code verifier.');
        const computed = code.codeChallengeMethod === 'S256' ? s256(verifier) : verifier;
        if (computed !== code.codeChallenge) throw oauthError(400, 'invalid_grant', 'Invalid code verifier.');
      }
      const grant: Grant = {
        email: code.email,
        scopes: code.scopes,
        refreshToken: token('1//0g'),
        accessTokens: new Set(),
        revoked: false,
      };
      this.grants.set(grant.refreshToken, grant);
      this.mailbox(code.email);
      return {
        ...this.issueAccessToken(grant),
        refresh_token: grant.refreshToken,
        scope: grant.scopes.join(' '),
        token_type: 'Bearer',
      };
    }
    if (params.grant_type === 'refresh_token') {
      const grant = this.grants.get(params.refresh_token ?? '');
      if (!grant || grant.revoked) throw oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
      return { ...this.issueAccessToken(grant), scope: grant.scopes.join(' '), token_type: 'Bearer' };
    }
    throw oauthError(400, 'unsupported_grant_type', 'Invalid grant_type');
  }

  private revokeEndpoint(params: Record<string, string>): Record<string, unknown> {
    const value = params.token ?? '';
    const grant = this.grants.get(value) ?? this.accessTokens.get(value)?.grant;
    if (!grant || grant.revoked) throw oauthError(400, 'invalid_token', 'Token expired or revoked');
    this.revoke(grant);
    return {};
  }

  /** The mailbox a Gmail API request may read: its bearer token must be live and grant a Gmail scope. */
  private mailboxFor(authorization: string | undefined): GmailMailbox {
    const live = this.accessTokens.get(authorization?.replace(/^Bearer /, '') ?? '');
    if (!live || live.expiresAt < Date.now() || live.grant.revoked) {
      throw new HttpError(401, {
        error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' },
      });
    }
    if (!live.grant.scopes.some((scope) => scope.startsWith('https://www.googleapis.com/auth/gmail.'))) {
      throw new HttpError(403, {
        error: { code: 403, message: 'Request had insufficient authentication scopes.', status: 'PERMISSION_DENIED' },
      });
    }
    return this.mailbox(live.grant.email);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const form = request.headers['content-type']?.includes('application/x-www-form-urlencoded')
      ? Object.fromEntries(new URLSearchParams(body))
      : {};
    const params: Record<string, string> = { ...Object.fromEntries(url.searchParams), ...form };
    const jsonBody: unknown =
      request.headers['content-type']?.includes('application/json') && body ? JSON.parse(body) : undefined;
    let mailboxOf: string | undefined;
    const authorization = request.headers.authorization;
    const route = `${request.method} ${url.pathname}`;
    let status = 200;
    try {
      if (route === 'GET /o/oauth2/v2/auth') {
        status = 302;
        response.writeHead(302, { location: this.consent(params, {}) }).end();
      } else if (route === 'POST /token') {
        this.json(response, 200, this.tokenEndpoint(params, authorization));
      } else if (route === 'POST /revoke') {
        this.json(response, 200, this.revokeEndpoint(params));
      } else if (route === 'GET /oauth2/v1/certs') {
        response.setHeader('cache-control', 'public, max-age=300');
        this.json(response, 200, { [this.idTokenKey.kid]: this.idTokenKey.publicPem });
      } else if (url.pathname.startsWith('/gmail/v1/users/me/')) {
        const mailbox = this.mailboxFor(authorization);
        mailboxOf = mailbox.email;
        this.injectGmailFault(url.pathname, response);
        const answer = await this.gmail(mailbox, request.method ?? 'GET', url.pathname, params, jsonBody);
        if (answer === NO_CONTENT) {
          status = 204;
          response.writeHead(204).end();
        } else this.json(response, 200, answer);
      } else {
        throw new HttpError(404, { error: { code: 404, message: `No route ${route}`, status: 'NOT_FOUND' } });
      }
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      status = error.status;
      this.json(response, error.status, error.body);
    }
    this.requests.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      params,
      ...(jsonBody === undefined ? {} : { body: jsonBody }),
      ...(mailboxOf === undefined ? {} : { mailbox: mailboxOf }),
      authorization,
      status,
    });
  }

  private injectGmailFault(path: string, response: ServerResponse): void {
    const index = this.gmailFaults.findIndex((fault) => !fault.path || fault.path.test(path));
    if (index < 0) return;
    const [fault] = this.gmailFaults.splice(index, 1) as [GmailFault];
    if (fault.retryAfterSeconds !== undefined) response.setHeader('retry-after', String(fault.retryAfterSeconds));
    const reason = fault.reason ?? (fault.status === 429 ? 'rateLimitExceeded' : 'backendError');
    const message = fault.message ?? (reason === 'backendError' ? 'Backend Error' : 'Rate Limit Exceeded');
    throw gmailError(fault.status, message, reason);
  }

  /** The Gmail API routes below /gmail/v1/users/me/. */
  private async gmail(
    mailbox: GmailMailbox,
    method: string,
    path: string,
    params: Record<string, string>,
    body: unknown,
  ): Promise<unknown> {
    const rest = path.slice('/gmail/v1/users/me/'.length).split('/');
    if (method === 'POST' && rest.length === 1 && rest[0] === 'watch') return this.watch(mailbox, body);
    if (method === 'POST' && rest.length === 1 && rest[0] === 'stop') {
      mailbox.watch = null;
      return NO_CONTENT;
    }
    if (method !== 'GET') throw gmailError(405, `No route ${method} ${path}`, 'methodNotAllowed');
    if (rest.length === 1 && rest[0] === 'profile') return mailbox.profile();
    if (rest.length === 1 && rest[0] === 'messages') {
      const max = Math.min(Number(params.maxResults ?? 100), 500);
      const page = mailbox.listPage(params.pageToken, max);
      return {
        ...(page.ids.length ? { messages: page.ids.map(({ id, threadId }) => ({ id, threadId })) } : {}),
        ...(page.next ? { nextPageToken: page.next } : {}),
        resultSizeEstimate: page.ids.length,
      };
    }
    if (rest[0] === 'messages' && rest[1]) {
      const message = mailbox.messages.get(rest[1]);
      if (!message) throw gmailError(404, 'Requested entity was not found.', 'notFound');
      const fault = mailbox.messageFaults.get(message.id);
      if (fault) throw gmailError(fault, 'Invalid message', fault === 400 ? 'failedPrecondition' : 'backendError');
      if (rest.length === 2) return this.messageResource(mailbox, message, params.format ?? 'full');
      if (rest.length === 4 && rest[2] === 'attachments') {
        const attachment = (await attachmentsOf(message.raw))[Number(rest[3]!.replace(/^att/, ''))];
        if (!attachment) throw gmailError(404, 'Requested entity was not found.', 'notFound');
        return { attachmentId: rest[3], size: attachment.size, data: attachment.content.toString('base64url') };
      }
    }
    if (rest.length === 1 && rest[0] === 'history') {
      if (!/^[0-9]+$/.test(params.startHistoryId ?? '')) {
        throw gmailError(400, 'Invalid startHistoryId', 'invalidArgument');
      }
      const max = Math.min(Number(params.maxResults ?? 100), 500);
      const page = mailbox.historyPage(BigInt(params.startHistoryId!), params.pageToken, max);
      if (!page) throw gmailError(404, 'Requested entity was not found.', 'notFound');
      return {
        ...(page.records.length ? { history: page.records.map(historyResource) } : {}),
        ...(page.next ? { nextPageToken: page.next } : {}),
        historyId: mailbox.currentHistoryId.toString(),
      };
    }
    throw gmailError(404, `No route GET ${path}`, 'notFound');
  }

  /** users.watch: the topic must be a Pub/Sub topic's full name, as Gmail checks before publishing a test message. */
  private watch(mailbox: GmailMailbox, body: unknown): { historyId: string; expiration: string } {
    const { topicName, labelIds } = (body ?? {}) as { topicName?: unknown; labelIds?: unknown };
    if (typeof topicName !== 'string' || !/^projects\/[^/]+\/topics\/[^/]+$/.test(topicName)) {
      throw gmailError(400, 'Invalid topicName does not match projects/*/topics/*', 'invalidArgument');
    }
    const labels = Array.isArray(labelIds)
      ? labelIds.filter((label): label is string => typeof label === 'string')
      : null;
    const expiration = Date.now() + this.watchLifetimeMs;
    mailbox.watch = { topicName, labelIds: labels, expiration };
    return { historyId: mailbox.currentHistoryId.toString(), expiration: String(expiration) };
  }

  private async messageResource(mailbox: GmailMailbox, message: MailboxMessage, format: string): Promise<unknown> {
    const raw = message.raw;
    const base = {
      id: message.id,
      threadId: message.threadId,
      labelIds: message.labelIds,
      historyId: mailbox.currentHistoryId.toString(),
      internalDate: String(message.internalDate),
      sizeEstimate: raw.length,
    };
    if (format === 'raw') return { ...base, raw: raw.toString('base64url') };
    if (format === 'minimal') return base;
    const attachments = await attachmentsOf(raw);
    return {
      ...base,
      payload: {
        mimeType: 'multipart/mixed',
        parts: attachments.map((attachment, index) => ({
          partId: String(index + 1),
          mimeType: attachment.contentType,
          filename: attachment.filename ?? '',
          body: { attachmentId: `att${index}`, size: attachment.size },
        })),
      },
    };
  }

  private json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  }
}

/** What a Gmail route answers with no body (204), as users.stop does. */
const NO_CONTENT = Symbol('no content');

/** A Gmail API error body, as Google's APIs answer one. */
function gmailError(status: number, message: string, reason: string): HttpError {
  return new HttpError(status, {
    error: { code: status, message, errors: [{ message, domain: 'global', reason }], status: statusName(status) },
  });
}

function statusName(status: number): string {
  return (
    { 400: 'INVALID_ARGUMENT', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED' }[status] ??
    'INTERNAL'
  );
}

/** The attachments of a message, in MIME order (the stand-in's attachment ids are att0, att1…). */
async function attachmentsOf(raw: Buffer): Promise<Attachment[]> {
  return (await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true })).attachments;
}

function historyResource(record: HistoryRecord): Record<string, unknown> {
  const message = { id: record.change.messageId, threadId: record.change.threadId };
  const change = record.change;
  const entry =
    change.kind === 'labelsAdded' || change.kind === 'labelsRemoved'
      ? { message, labelIds: change.labelIds }
      : { message };
  return { id: record.id.toString(), messages: [message], [change.kind]: [entry] };
}
