// /v1/mail: a signed-in user's own Gmail connections (API keys have no user to own a mailbox).
// Connecting is OAuth 2.0's authorization-code flow with PKCE (S256): POST /accounts stores the
// state's hash and the sealed code verifier and answers Google's authorization URL; Google sends
// the browser back to /oauth/callback, which claims the state once, exchanges the code and
// stores the grant sealed (connect.ts). The API writes these rows directly, under the user's
// context, where row-level security shows each user only their own.
import Router from '@koa/router';
import {
  deleteMailAccount,
  findMailAccount,
  listMailAccounts,
  setMailAccountStatus,
} from '../../../db/queries/mail-accounts.ts';
import { listLatestJobEvents } from '../../../db/queries/job-events.ts';
import { findLatestJob } from '../../../db/queries/jobs.ts';
import { deleteMailGrant, findMailGrant } from '../../../db/queries/mail-grants.ts';
import { deleteOpenMailOAuthSessions } from '../../../db/queries/mail-oauth-sessions.ts';
import { grantCredentials } from '../../../mail/gmail.ts';
import { GoogleUnavailableError, revokeGoogleToken } from '../../../mail/google.ts';
import { audit } from '../../audit.ts';
import {
  tenantOf,
  userOf,
  type ApiContext,
  type ApiContextExtension,
  type ApiState,
  type RouteContext,
} from '../../context.ts';
import { ConflictError, NotFoundError, ServiceUnavailableError } from '../../errors.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { requireTenant } from '../../middleware/require-tenant.ts';
import { validate } from '../../middleware/validate.ts';
import { pageBody } from '../../paging.ts';
import { serialized } from '../../schemas.ts';
import { mailboxOutcome } from '../../../workflow-client/mail.ts';
import { completeConnection, mailCipher, startConnection } from './connect.ts';
import { toMailbox } from './mailbox.ts';
import { push, verifyPush } from './push.ts';
import { stopWatch } from './watch.ts';
import {
  ConnectMailAccount,
  DisconnectMailAccount,
  GetMailAccount,
  ListMailAccounts,
  MailPush,
  OAuthCallback,
  SyncMailAccount,
  type MailAccount,
  type MailAccountDetail,
  type MailAccountPage,
  type MailConnection,
} from './schema.ts';

export function createMailRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/mail' });
  router.post('/accounts', authenticate(), requireTenant(), validate(ConnectMailAccount), connect);
  router.get('/accounts', authenticate(), requireTenant(), validate(ListMailAccounts), list);
  router.get('/accounts/:accountId', authenticate(), requireTenant(), validate(GetMailAccount), get);
  // Each statement in a transaction of its own: the mailbox workflow removes the account's mail
  // while the request waits for it, and must not meet a lock the request holds.
  router.delete(
    '/accounts/:accountId',
    authenticate(),
    requireTenant({ transaction: 'statement' }),
    validate(DisconnectMailAccount),
    disconnect,
  );
  router.post('/accounts/:accountId/sync', authenticate(), requireTenant(), validate(SyncMailAccount), syncNow);
  // No credentials: Google redirects the user's browser here, and the state says whose attempt it is.
  router.get('/oauth/callback', validate(OAuthCallback), callback);
  // Google's Pub/Sub, signing with the push subscription's service account instead of a Quarry credential.
  router.post('/push', verifyPush(), validate(MailPush), push);
  return router;
}

function ownerOf(ctx: ApiContext) {
  return { tenantId: tenantOf(ctx).tenantId, userId: userOf(ctx).userId };
}

const notFound = () => new NotFoundError('Mail account not found');

/** How long a disconnect waits for the mailbox workflow to remove the account's mail before answering 202. */
const DISCONNECT_WAIT_MS = 10_000;

async function syncNow(ctx: RouteContext<typeof SyncMailAccount>) {
  const { tx } = tenantOf(ctx);
  const account = await findMailAccount(tx, ctx.state.input.params.accountId);
  if (!account) throw notFound();
  if (account.connectedAt === null || account.status === 'disconnected') {
    throw new ConflictError('mail_account_not_connected', 'The mail account is not connected: connect it first');
  }
  await toMailbox(ctx, ownerOf(ctx), account, { kind: 'syncNow' });
  ctx.status = 202;
  ctx.body = serialized(account) satisfies MailAccount;
}

async function connect(ctx: RouteContext<typeof ConnectMailAccount>) {
  const { tx } = tenantOf(ctx);
  const started = await startConnection(ctx, tx, ownerOf(ctx), ctx.state.input.body.address ?? null);
  ctx.status = 201;
  ctx.body = {
    account: serialized(started.account),
    authorizationUrl: started.authorizationUrl,
    expiresAt: started.expiresAt.toISOString(),
  } satisfies MailConnection;
}

async function callback(ctx: RouteContext<typeof OAuthCallback>) {
  const account = await completeConnection(ctx, ctx.state.input.query);
  ctx.body = serialized(account) satisfies MailAccount;
}

async function list(ctx: RouteContext<typeof ListMailAccounts>) {
  const { tx } = tenantOf(ctx);
  const { cursor, limit } = ctx.state.input.query;
  const page = await listMailAccounts(tx, ownerOf(ctx), { after: cursor, limit });
  ctx.body = pageBody('accounts', page, serialized) satisfies MailAccountPage;
}

/** Step events of the latest mailbox run shown with an account. */
const SYNC_EVENTS = 100;

async function get(ctx: RouteContext<typeof GetMailAccount>) {
  const { tx } = tenantOf(ctx);
  const account = await findMailAccount(tx, ctx.state.input.params.accountId);
  if (!account) throw notFound();
  const job = await findLatestJob(tx, 'mailbox', account.id);
  const events = job ? await listLatestJobEvents(tx, job.id, SYNC_EVENTS) : [];
  ctx.body = {
    ...serialized(account),
    sync: job ? { ...serialized(job), events: events.map(serialized) } : null,
  } satisfies MailAccountDetail;
}

/**
 * Revokes the grant at Google first, and removes it only once Google has let it go (or already
 * had): a grant Quarry forgot but Google still honours would be one the user cannot see to end.
 * A Gmail watch Quarry set that has not expired is stopped before that (best effort, watch.ts).
 * Mail synced from the account goes with it unless `keep` (the mailbox workflow's part).
 */
async function disconnect(ctx: RouteContext<typeof DisconnectMailAccount>) {
  const { tx } = tenantOf(ctx);
  const { accountId } = ctx.state.input.params;
  const { keep } = ctx.state.input.query;
  const account = await findMailAccount(tx, accountId, { lock: true });
  if (!account) throw notFound();
  const grant = await findMailGrant(tx, accountId);
  if (grant) {
    const credentials = grantCredentials(mailCipher(ctx), accountId, grant);
    if (account.watchExpiresAt !== null && account.watchExpiresAt > new Date()) {
      await stopWatch(ctx, tx, accountId, credentials);
    }
    try {
      await revokeGoogleToken(ctx.services.config.GOOGLE_REVOKE_URL, credentials.refresh_token);
    } catch (error) {
      if (!(error instanceof GoogleUnavailableError)) throw error;
      throw new ServiceUnavailableError('google_unavailable', 'Google could not be reached to revoke the grant');
    }
    await deleteMailGrant(tx, accountId);
  }
  await deleteOpenMailOAuthSessions(tx, accountId);
  const stopped = await setMailAccountStatus(tx, accountId, 'disconnected', 'Disconnected by its user');
  await audit(ctx, tx, {
    action: 'mail_account.disconnect',
    tenantId: null,
    target: { type: 'mail_account', id: accountId },
    details: { keep, revoked: grant !== null },
  });
  if (account.connectedAt === null) {
    // Never connected: no workflow ever ran for it, and it holds no mail.
    if (!keep) await deleteMailAccount(tx, accountId);
    ctx.status = 204;
    return;
  }
  // The mailbox workflow stops, removes the account's mail (its job data) unless `keep`, and ends.
  const owner = ownerOf(ctx);
  await toMailbox(ctx, owner, account, { kind: 'disconnect', request: { keep } });
  const outcome = await mailboxOutcome(ctx.services.temporal, { ...owner, accountId }, DISCONNECT_WAIT_MS);
  if (outcome) {
    ctx.status = 204;
    return;
  }
  ctx.status = 202;
  ctx.body = serialized(stopped ?? account) satisfies MailAccount;
}
