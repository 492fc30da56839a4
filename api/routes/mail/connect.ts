// The two halves of connecting a mailbox. startConnection stores a session (the SHA-256 of a
// fresh state, the PKCE code verifier sealed) and answers Google's authorization URL.
// completeConnection, on Google's redirect, claims the session by its state (once: the definer
// function marks it used and drops the verifier in the same statement), exchanges the code with
// the verifier, reads the mailbox address with users.getProfile, and stores the grant sealed
// under the session's user and tenant. Nothing is stored for a state that is unknown, used or
// expired, nor for a code Google refuses.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  deleteMailAccount,
  findMailAccount,
  findMailAccountByAddress,
  insertMailAccount,
  markMailAccountConnected,
  type MailAccountRow,
  type MailOwner,
} from '../../../db/queries/mail-accounts.ts';
import { upsertMailGrant } from '../../../db/queries/mail-grants.ts';
import { findMembershipRole } from '../../../db/queries/memberships.ts';
import { claimMailOAuthSession, insertMailOAuthSession } from '../../../db/queries/mail-oauth-sessions.ts';
import { withTenant, type TenantConnection } from '../../../db/with-tenant.ts';
import {
  GoogleOAuthRefusedError,
  GoogleUnavailableError,
  IncompleteGrantError,
  revokeGoogleToken,
  type GoogleMail,
} from '../../../mail/google.ts';
import { sealContext, type TokenCipher } from '../../../mail/token-cipher.ts';
import { audit } from '../../audit.ts';
import type { ApiContext } from '../../context.ts';
import { toMailbox } from './mailbox.ts';
import { BadRequestError, ConflictError, NotConfiguredError, ServiceUnavailableError } from '../../errors.ts';

const notConfigured = (missing: string) =>
  new NotConfiguredError('mail_not_configured', `Mail connections are not configured on this server (${missing})`);

/** The token cipher; 501 without TOKEN_ENCRYPTION_KEY. */
export function mailCipher(ctx: ApiContext): TokenCipher {
  const { cipher } = ctx.services.mail;
  if (!cipher) throw notConfigured('TOKEN_ENCRYPTION_KEY');
  return cipher;
}

/** Google's OAuth client with the token cipher; 501 without GOOGLE_OAUTH_CLIENT_ID or a key. */
function mailServices(ctx: ApiContext): { cipher: TokenCipher; google: GoogleMail } {
  const { google } = ctx.services.mail;
  if (!google) throw notConfigured('GOOGLE_OAUTH_CLIENT_ID');
  return { cipher: mailCipher(ctx), google };
}

export const hashState = (state: string) => createHash('sha256').update(state, 'utf8').digest('hex');

export async function startConnection(
  ctx: ApiContext,
  tx: TenantConnection,
  owner: MailOwner,
  address: string | null,
): Promise<{ account: MailAccountRow; authorizationUrl: string; expiresAt: Date }> {
  const { cipher, google } = mailServices(ctx);
  const existing = address ? await findMailAccountByAddress(tx, owner, address, { lock: true }) : null;
  const account = existing ?? (await insertMailAccount(tx, owner, { id: randomUUID(), address }));
  const state = randomBytes(32).toString('base64url');
  const { codeVerifier, codeChallenge } = await google.codeVerifier();
  const sessionId = randomUUID();
  const sealed = cipher.seal(codeVerifier, sealContext.codeVerifier(sessionId));
  const expiresAt = new Date(Date.now() + ctx.services.config.MAIL_OAUTH_SESSION_TTL_SECONDS * 1000);
  await insertMailOAuthSession(tx, owner, {
    id: sessionId,
    accountId: account.id,
    stateHash: hashState(state),
    keyId: sealed.keyId,
    codeVerifierCiphertext: sealed.ciphertext,
    expiresAt,
  });
  await audit(ctx, tx, {
    action: 'mail_account.connect_start',
    tenantId: null,
    target: { type: 'mail_account', id: account.id },
    details: { reconnect: existing !== null },
  });
  return {
    account,
    authorizationUrl: google.authorizationUrl({ state, codeChallenge, loginHint: address }),
    expiresAt,
  };
}

const STATE_ERRORS = {
  unknown: () => new BadRequestError('oauth_state_invalid', 'The OAuth state is not one this server issued'),
  used: () => new BadRequestError('oauth_state_used', 'The OAuth state was already used: start connecting again'),
  expired: () => new BadRequestError('oauth_state_expired', 'The OAuth state has expired: start connecting again'),
} as const;

export interface CallbackInput {
  readonly state?: string;
  readonly code?: string;
  readonly error?: string;
  readonly error_description?: string;
}

export async function completeConnection(ctx: ApiContext, input: CallbackInput): Promise<MailAccountRow> {
  const { cipher, google } = mailServices(ctx);
  const { pool } = ctx.services;
  if (!input.state) throw STATE_ERRORS.unknown();
  const claim = await claimMailOAuthSession(pool, hashState(input.state));
  if (claim.outcome !== 'claimed') throw STATE_ERRORS[claim.outcome]();
  const owner = { tenantId: claim.tenantId, userId: claim.userId };

  if (input.error !== undefined || input.code === undefined) {
    // The user refused (access_denied), or Google failed the request: an account that was
    // never connected goes again; one being reconnected stays as it was.
    await withTenant(pool, owner, async (tx) => {
      const account = await findMailAccount(tx, claim.accountId, { lock: true });
      if (account && account.connectedAt === null) await deleteMailAccount(tx, account.id);
    });
    if (input.error === 'access_denied') {
      throw new BadRequestError('oauth_access_denied', 'Access to the mailbox was not granted at Google');
    }
    throw new BadRequestError('oauth_failed', `Google ended the authorization: ${input.error ?? 'no code'}`, {
      error: input.error ?? null,
    });
  }

  const codeVerifier = cipher.open(
    { keyId: claim.keyId, ciphertext: claim.codeVerifierCiphertext },
    sealContext.codeVerifier(claim.sessionId),
  );
  const grant = await fromGoogle(() => google.exchangeCode(input.code as string, codeVerifier));
  const profile = await fromGoogle(() => google.profile(grant.accessToken));

  const outcome = await withTenant(pool, owner, async (tx) => {
    // The user may have left the tenant since starting: nothing is stored for them there.
    if (!(await findMembershipRole(tx, owner))) return { kind: 'gone' as const };
    const pending = await findMailAccount(tx, claim.accountId, { lock: true });
    if (!pending) return { kind: 'gone' as const };
    if (pending.address !== null && pending.address !== profile.address) return { kind: 'mismatch' as const, pending };
    // The user's account for this mailbox, when the new one turns out to be a reconnection.
    const existing = await findMailAccountByAddress(tx, owner, profile.address, { lock: true });
    const target = existing ?? pending;
    if (existing && existing.id !== pending.id) await deleteMailAccount(tx, pending.id);
    const refresh = cipher.seal(grant.refreshToken, sealContext.refreshToken(target.id));
    const access = cipher.seal(grant.accessToken, sealContext.accessToken(target.id));
    await upsertMailGrant(tx, owner, target.id, {
      keyId: refresh.keyId,
      refreshTokenCiphertext: refresh.ciphertext,
      accessTokenCiphertext: access.ciphertext,
      accessTokenExpiresAt: grant.accessTokenExpiresAt,
      scopes: grant.scopes,
    });
    const account = await markMailAccountConnected(tx, target.id, profile.address);
    await audit(ctx, tx, {
      action: 'mail_account.connect',
      tenantId: null,
      actorUserId: owner.userId,
      target: { type: 'mail_account', id: account.id },
    });
    return { kind: 'connected' as const, account };
  });

  if (outcome.kind === 'connected') {
    // The account's mailbox workflow starts (its first full sync), or, reconnected, goes on from
    // where it stopped (a sync waiting for re-auth resumes from the stored history id).
    await toMailbox(ctx, owner, outcome.account, { kind: 'connected' });
    return outcome.account;
  }
  // Nothing was stored: let the grant Google just made go too.
  await revokeGoogleToken(ctx.services.config.GOOGLE_REVOKE_URL, grant.refreshToken).catch((error: unknown) =>
    ctx.state.log.warn({ err: error }, 'could not revoke an unused mail grant'),
  );
  if (outcome.kind === 'mismatch') {
    throw new ConflictError(
      'mail_address_mismatch',
      'Google granted access to another mailbox than the account’s: sign in to Google as that account',
    );
  }
  throw STATE_ERRORS.unknown();
}

/** Calls Google, answering its refusals as 400s and its outages as 503s. */
async function fromGoogle<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GoogleUnavailableError) {
      throw new ServiceUnavailableError('google_unavailable', 'Google could not be reached; start connecting again');
    }
    if (error instanceof IncompleteGrantError) {
      throw new BadRequestError(
        error.reason === 'scope_not_granted' ? 'oauth_scope_not_granted' : 'oauth_grant_incomplete',
        error.message,
      );
    }
    if (error instanceof GoogleOAuthRefusedError) {
      throw new BadRequestError('oauth_code_rejected', 'Google did not accept the authorization code', {
        error: error.error,
      });
    }
    throw error;
  }
}
