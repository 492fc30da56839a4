// Ending Gmail's watch of a mailbox being disconnected (users.stop), so that Gmail publishes its
// changes no more: called before the grant is revoked, since no token could ask it afterwards.
// Best effort: Gmail ends a watch within 7 days anyway, and a push for an account no longer
// connected is acknowledged and goes nowhere, so a failure is logged and the disconnect goes on.
import type { Credentials } from 'google-auth-library';
import { setMailAccountWatch } from '../../../db/queries/mail-accounts.ts';
import type { TenantConnection } from '../../../db/with-tenant.ts';
import { gmailMailboxClient } from '../../../mail/gmail.ts';
import type { ApiContext } from '../../context.ts';

export async function stopWatch(
  ctx: ApiContext,
  tx: TenantConnection,
  accountId: string,
  credentials: Credentials,
): Promise<void> {
  try {
    await gmailMailboxClient(ctx.services.config, credentials).stop();
  } catch (error) {
    ctx.state.log.warn({ err: error, accountId }, 'could not stop Gmail watching a disconnected mailbox');
    return;
  }
  await setMailAccountWatch(tx, accountId, null);
}
