// POST /v1/mail/push: Gmail's push notifications, delivered by a Cloud Pub/Sub push subscription.
// No Quarry credentials come with them, only Google's signature (mail/push.ts checks it). A
// verified notification names a mailbox address and its history id now; the accounts connected to
// that address (found by the narrow definer lookup of migrations/14_mail_push.sql: no tenant or
// user is known yet) whose sync has not reached that history id are told to sync now.
// Pub/Sub retries until it is answered 2xx, so what can never succeed (an address no account has)
// is acknowledged too, and only what may succeed later (Temporal down) is not.
import type { Next } from 'koa';
import { findPushTargets } from '../../../db/queries/mail-accounts.ts';
import { PushCertificatesUnavailableError, PushTokenRejectedError } from '../../../mail/push.ts';
import type { ApiContext, RouteContext } from '../../context.ts';
import { NotFoundError, ServiceUnavailableError, UnauthorizedError } from '../../errors.ts';
import { toMailbox } from './mailbox.ts';
import type { MailPush } from './schema.ts';

/** Lets through only requests signed by the push subscription's service account. */
export function verifyPush() {
  return async function verifyPushToken(ctx: ApiContext, next: Next) {
    const verifier = ctx.services.mail.push;
    if (!verifier) throw new NotFoundError('Gmail push is not configured on this server', 'mail_push_not_configured');
    try {
      await verifier.verify(ctx.get('authorization') || undefined);
    } catch (error) {
      if (error instanceof PushTokenRejectedError) {
        throw new UnauthorizedError('invalid_push_token', 'Send the push subscription’s Google-signed OIDC token');
      }
      if (error instanceof PushCertificatesUnavailableError) {
        throw new ServiceUnavailableError('google_unavailable', 'Google’s token certificates could not be fetched');
      }
      throw error;
    }
    await next();
  };
}

/** Whether a sync that reached `synced` has yet to see `pushed` (both Gmail history ids). */
const behind = (synced: string | null, pushed: string) => synced === null || BigInt(synced) < BigInt(pushed);

export async function push(ctx: RouteContext<typeof MailPush>) {
  const { emailAddress, historyId } = ctx.state.input.body.message.data;
  const targets = await findPushTargets(ctx.services.pool, emailAddress);
  const due = targets.filter((target) => behind(target.historyId, historyId));
  for (const { tenantId, userId, accountId, historyId: synced } of due) {
    await toMailbox(ctx, { tenantId, userId }, { id: accountId, historyId: synced }, { kind: 'syncNow' }, null);
  }
  ctx.state.log.info({ accounts: targets.length, signalled: due.length }, 'gmail push notification');
  ctx.status = 204;
}
