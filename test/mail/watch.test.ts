// Gmail's watch for push notifications (users.watch), which the mailbox workflow keeps when
// MAIL_PUSH_TOPIC is set: asked for once the first full sync is done, with the topic and no label
// filter, its expiration shown on the account; renewed as it nears its end (the stand-in answers
// a watch of a few seconds, so renewal comes within seconds) without a sync; a refusal recorded
// while the mailbox syncs on; stopped when the account is disconnected. A deployment without the
// topic asks Gmail for no watch at all.
import anyTest, { type TestFn } from 'ava';
import { call, tenantOwner } from '../api/harness.ts';
import {
  as,
  composeMessage,
  connect,
  startMail,
  syncNow,
  waitForAccount,
  waitForSync,
  type MailAccountBody,
  type MailHarness,
  type Owner,
} from './harness.ts';

const TOPIC = 'projects/quarry-test/topics/gmail-push';
const WEEK_MS = 7 * 24 * 3600_000;

interface Context {
  /** API and worker with MAIL_PUSH_TOPIC. */
  readonly mail: MailHarness;
  /** API and worker without it. */
  readonly plain: MailHarness;
}

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  const [mail, plain] = await Promise.all([startMail({ MAIL_PUSH_TOPIC: TOPIC }), startMail()]);
  t.context = { mail, plain };
});

test.after.always(async (t) => {
  await Promise.all([t.context.mail?.close(), t.context.plain?.close()]);
});

/** Connects a mailbox holding one mail and waits for its full sync. */
async function connected(harness: MailHarness, label: string) {
  const owner = await tenantOwner(harness.api, label);
  const address = `${label}-${owner.userId}@gmail.test`;
  const mailbox = harness.google.mailbox(address);
  mailbox.add({ raw: composeMessage({ subject: 'Already there', text: 'The first mail.' }) });
  const { done } = await connect(harness, owner, address);
  if (done.status !== 200) throw new Error(`callback failed: ${JSON.stringify(done.body)}`);
  const account = await waitForSync(harness.api, owner, done.body.id);
  return { owner, address, mailbox, account };
}

/** The stand-in's requests for one mailbox's Gmail API at `path` (below /gmail/v1/users/me/). */
const gmailRequests = (harness: MailHarness, address: string, path: string) =>
  harness.google.requests.filter((r) => r.mailbox === address && r.path === `/gmail/v1/users/me/${path}`);

async function accountOf(harness: MailHarness, owner: Owner, accountId: string): Promise<MailAccountBody> {
  const reply = await call(harness.api, 'GET', `/v1/mail/accounts/${accountId}`, as(owner));
  if (reply.status !== 200) throw new Error(`no account: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Waits until the account shows a watch expiring at `expiration` (ms), and answers the account. */
function waitForWatch(harness: MailHarness, owner: Owner, accountId: string, expiration: () => number | undefined) {
  return waitForAccount(
    harness.api,
    owner,
    accountId,
    (account) => {
      const expected = expiration();
      return expected !== undefined && account.watchExpiresAt === new Date(expected).toISOString();
    },
    'the watch on the account',
  );
}

/** Waits for the account's mailbox run to show a watchMailbox event of `status`, and answers that event. */
async function waitForWatchEvent(harness: MailHarness, owner: Owner, accountId: string, status: string) {
  const isIt = (e: { step: string; status: string }) => e.step === 'watchMailbox' && e.status === status;
  const account = await waitForAccount(
    harness.api,
    owner,
    accountId,
    (body) => (body.sync?.events ?? []).some(isIt),
    `a watchMailbox event ${status}`,
  );
  return account.sync?.events.find(isIt);
}

async function waitFor(what: string, until: () => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!until()) {
    if (Date.now() > deadline) throw new Error(`${what} did not come`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test.serial('connecting a mailbox watches it on the push topic once its full sync is done', async (t) => {
  const { mail } = t.context;
  const { owner, address, mailbox, account } = await connected(mail, 'watch-first');
  await waitForWatch(mail, owner, account.id, () => mailbox.watch?.expiration);

  const watches = gmailRequests(mail, address, 'watch');
  t.is(watches.length, 1);
  // Every change is announced (no labelIds), as incremental sync reads every change.
  t.deepEqual(watches[0]?.body, { topicName: TOPIC });
  t.like(mailbox.watch, { topicName: TOPIC, labelIds: null });
  // After the full sync: its last Gmail request came before the watch.
  const requests = mail.google.requests.filter((r) => r.mailbox === address);
  t.true(
    requests.findLastIndex((r) => r.path.startsWith('/gmail/v1/users/me/messages')) <
      requests.findIndex((r) => r.path === '/gmail/v1/users/me/watch'),
  );
  const shown = await accountOf(mail, owner, account.id);
  const expiresIn = Date.parse(shown.watchExpiresAt ?? '') - Date.now();
  t.true(expiresIn > WEEK_MS - 60_000 && expiresIn <= WEEK_MS, String(expiresIn));
  // The watch's history id is Gmail's; the account keeps the one its sync reached.
  t.is(shown.historyId, account.historyId);
  // The step's own event, written once it has returned.
  await waitForWatchEvent(mail, owner, account.id, 'completed');

  // A sync does not ask again: the watch has days to go.
  mailbox.add({ raw: composeMessage({ subject: 'Later', text: 'A second mail.' }) });
  t.like(await syncNow(mail.api, owner, account.id), {
    messageCount: 2,
    historyId: mailbox.currentHistoryId.toString(),
  });
  t.is(gmailRequests(mail, address, 'watch').length, 1);
});

test.serial('a watch near its end is renewed, between syncs and without one', async (t) => {
  const { mail } = t.context;
  // Renewal comes halfway through a watch shorter than two days.
  mail.google.watchLifetimeMs = 3000;
  try {
    const { owner, address, mailbox, account } = await connected(mail, 'watch-renew');
    await waitFor('two renewals', () => gmailRequests(mail, address, 'watch').length >= 3);
    await waitForWatch(mail, owner, account.id, () => mailbox.watch?.expiration);
    // The renewals left the sync's timer (an hour) alone: no sync ran.
    t.is(gmailRequests(mail, address, 'history').length, 0);
    t.like(await accountOf(mail, owner, account.id), { status: 'idle', lastSyncedAt: account.lastSyncedAt });

    // Gmail's week again: the next renewal is a day away.
    mail.google.watchLifetimeMs = WEEK_MS;
    await waitFor('a watch of a week', () => (mailbox.watch?.expiration ?? 0) > Date.now() + WEEK_MS - 60_000);
    const renewals = gmailRequests(mail, address, 'watch').length;
    await waitForWatch(mail, owner, account.id, () => mailbox.watch?.expiration);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    t.is(gmailRequests(mail, address, 'watch').length, renewals);
  } finally {
    mail.google.watchLifetimeMs = WEEK_MS;
  }
});

test.serial('a watch Gmail refuses is recorded as an event, and the mailbox syncs on', async (t) => {
  const { mail } = t.context;
  const message = 'Invalid topicName does not match projects/another-project/topics/*';
  mail.google.failNextGmail({ status: 400, reason: 'invalidArgument', message, path: /\/watch$/ });
  const { owner, address, mailbox, account } = await connected(mail, 'watch-refused');
  const event = await waitForWatchEvent(mail, owner, account.id, 'info');
  t.is(
    event?.message,
    `Gmail refused to watch the mailbox on ${TOPIC}, so no push notifications come: ` +
      `Gmail refused the request (HTTP 400 invalidArgument): ${message}`,
  );
  t.deepEqual(
    gmailRequests(mail, address, 'watch').map((r) => r.status),
    [400],
  );
  t.like(await accountOf(mail, owner, account.id), { status: 'idle', statusReason: null, watchExpiresAt: null });
  t.is(mailbox.watch, null);

  mailbox.add({ raw: composeMessage({ subject: 'After the refusal', text: 'Still synced.' }) });
  t.like(await syncNow(mail.api, owner, account.id), { status: 'idle', messageCount: 2 });
});

test.serial('disconnecting stops the watch before revoking the grant', async (t) => {
  const { mail } = t.context;
  const { owner, address, mailbox, account } = await connected(mail, 'watch-stop');
  await waitForWatch(mail, owner, account.id, () => mailbox.watch?.expiration);

  t.is((await call(mail.api, 'DELETE', `/v1/mail/accounts/${account.id}?keep=true`, as(owner))).status, 204);
  const stops = gmailRequests(mail, address, 'stop');
  t.deepEqual(
    stops.map((r) => [r.method, r.status]),
    [['POST', 204]],
  );
  const [grant] = mail.google.grantsOf(address);
  const revoke = mail.google.requests.findIndex((r) => r.path === '/revoke' && r.params.token === grant?.refreshToken);
  t.true(revoke > mail.google.requests.indexOf(stops[0]!));
  t.is(mailbox.watch, null);
  t.like(await accountOf(mail, owner, account.id), { status: 'disconnected', watchExpiresAt: null });
});

test.serial('without a push topic no watch is asked for, nor stopped', async (t) => {
  const { plain } = t.context;
  const { owner, address, mailbox, account } = await connected(plain, 'watch-off');
  // The workflow asked its worker, which has no topic, and Gmail was asked nothing.
  await waitForWatchEvent(plain, owner, account.id, 'completed');
  t.is(gmailRequests(plain, address, 'watch').length, 0);
  t.like(await accountOf(plain, owner, account.id), { status: 'idle', watchExpiresAt: null });

  t.is((await call(plain.api, 'DELETE', `/v1/mail/accounts/${account.id}`, as(owner))).status, 204);
  t.is(gmailRequests(plain, address, 'stop').length, 0);
  t.is(mailbox.watch, null);
  t.true(plain.google.grantsOf(address).every((grant) => grant.revoked));
});
