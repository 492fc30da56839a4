// The mail API under test: the real app and an ingestion worker (which hosts the mailbox
// workflow) on a task queue and blob directory of the file's own, both pointed at one Google
// stand-in. Helpers connect a mailbox the way a browser does (the stand-in's consent page turns
// the authorization URL into Google's redirect, which is followed to the callback), wait for a
// sync to end; composeMessage (devtools/google-stand-in/compose.ts) writes RFC 822 messages.
import { setTimeout as sleep } from 'node:timers/promises';
import { call, startApi, type Account, type ApiHarness, type Reply } from '../api/harness.ts';
import { documentSettings, startIngestionWorker, type RunningWorker } from '../documents/harness.ts';
import { GoogleStandIn } from '../../devtools/google-stand-in/google-server.ts';

export { composeMessage, type Part } from '../../devtools/google-stand-in/compose.ts';

/** A mail account as the API answers it. */
export interface MailAccountBody {
  readonly id: string;
  readonly address: string | null;
  readonly status: string;
  readonly statusReason: string | null;
  readonly historyId: string | null;
  readonly lastSyncedAt: string | null;
  readonly messageCount: number;
  readonly attachmentCount: number;
  /** Until when Gmail watches the mailbox for push notifications. */
  readonly watchExpiresAt: string | null;
  readonly updatedAt: string;
  /** GET /v1/mail/accounts/:id only: the latest mailbox run and its recent step events. */
  readonly sync?: {
    readonly status: string;
    readonly events: readonly { step: string; status: string; message: string | null }[];
  } | null;
}

export const REDIRECT_URI = 'https://quarry.test/v1/mail/oauth/callback';

export interface MailHarness {
  readonly api: ApiHarness;
  readonly google: GoogleStandIn;
  readonly worker: RunningWorker | null;
  readonly settings: Record<string, string>;
  close(): Promise<void>;
}

export async function startMail(
  overrides: Record<string, string> | ((google: GoogleStandIn) => Record<string, string>) = {},
  options: { worker?: boolean } = {},
): Promise<MailHarness> {
  const google = new GoogleStandIn();
  await google.start();
  // A timer far away: the tests sync on demand (POST …/sync).
  const settings = documentSettings({
    ...google.settings(REDIRECT_URI),
    MAIL_SYNC_INTERVAL_SECONDS: '3600',
    ...(typeof overrides === 'function' ? overrides(google) : overrides),
  });
  const api = await startApi(settings);
  const worker = options.worker === false ? null : await startIngestionWorker(settings);
  return {
    api,
    google,
    worker,
    settings,
    async close() {
      await worker?.stop();
      await api.close();
      await google.stop();
    },
  };
}

export type Owner = Account & { tenantId: string };
export const as = (owner: Owner) => ({ token: owner.token, tenantId: owner.tenantId });

/** Follows Google's redirect (an absolute URL at REDIRECT_URI) to the API's callback. */
export function followRedirect(api: ApiHarness, redirect: string): Promise<Reply> {
  return call(api, 'GET', `/v1/mail/oauth/callback${new URL(redirect).search}`);
}

export async function connect(
  harness: Pick<MailHarness, 'api' | 'google'>,
  owner: Owner,
  email: string,
  body: object = {},
  deny = false,
) {
  const { api, google } = harness;
  const started = await call(api, 'POST', '/v1/mail/accounts', { ...as(owner), body });
  if (started.status !== 201) throw new Error(`connect failed: ${JSON.stringify(started.body)}`);
  const redirect = google.authorize(started.body.authorizationUrl, { email, deny });
  return { started, redirect, done: await followRedirect(api, redirect) };
}

/** Polls the account until `until` holds of it (a minute at most). */
export async function waitForAccount(
  api: ApiHarness,
  owner: Owner,
  accountId: string,
  until: (account: MailAccountBody) => boolean,
  what = 'the account',
): Promise<MailAccountBody> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const reply = await call(api, 'GET', `/v1/mail/accounts/${accountId}`, as(owner));
    if (reply.status === 200 && until(reply.body)) return reply.body;
    if (Date.now() > deadline) throw new Error(`${what} did not come: ${JSON.stringify(reply.body)}`);
    await sleep(100);
  }
}

/** Waits for a sync that ends after `after` (an ISO time; any sync when null) and leaves the account idle. */
export function waitForSync(api: ApiHarness, owner: Owner, accountId: string, after: string | null = null) {
  return waitForAccount(
    api,
    owner,
    accountId,
    (account) =>
      account.status === 'idle' && account.lastSyncedAt !== null && (after === null || account.lastSyncedAt > after),
    'a finished sync',
  );
}

/** Asks for a sync now and waits until one has ended after the request. */
export async function syncNow(api: ApiHarness, owner: Owner, accountId: string) {
  const before = await call(api, 'GET', `/v1/mail/accounts/${accountId}`, as(owner));
  const asked = await call(api, 'POST', `/v1/mail/accounts/${accountId}/sync`, as(owner));
  if (asked.status !== 202) throw new Error(`sync failed: ${JSON.stringify(asked.body)}`);
  return waitForSync(api, owner, accountId, before.body.lastSyncedAt ?? null);
}
