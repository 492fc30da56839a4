// POST /v1/mail/push: Gmail push notifications as a Cloud Pub/Sub push subscription delivers
// them, signed with an OIDC token that the Google stand-in mints with a key its certs endpoint
// serves (google-auth-library's verifyIdToken fetches it there). A verified push makes the
// mailbox workflow of every account of the address sync now; a token that is not the push
// subscription's is refused, a body that is not a push message too, an address nobody has is
// acknowledged, and with Temporal (or Google's certificates) unreachable the push is refused 503
// for Pub/Sub to retry.
import pino from 'pino';
import { sql } from 'slonik';
import { z } from 'zod';
import anyTest, { type TestFn } from 'ava';
import { createApp } from '../../api/app.ts';
import { findPushTargets } from '../../db/queries/mail-accounts.ts';
import { API_CALL_ATTEMPTS, createTemporalClient } from '../../workflow-client/connection.ts';
import { call, serve, startApi, tenantOwner, type Reply } from '../api/harness.ts';
import { appPool, testConfig } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { pushBody, type PushTokenClaims } from '../../devtools/google-stand-in/google-server.ts';
import {
  as,
  composeMessage,
  connect,
  startMail,
  waitForSync,
  type MailAccountBody,
  type MailHarness,
  type Owner,
} from './harness.ts';

const AUDIENCE = 'https://quarry.test/v1/mail/push';

interface Context {
  readonly mail: MailHarness;
  readonly owner: Owner;
  readonly address: string;
  readonly account: MailAccountBody;
}

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  const mail = await startMail((google) => google.pushSettings(AUDIENCE));
  const owner = await tenantOwner(mail.api, 'mail-push');
  const address = `push-${owner.userId}@gmail.test`;
  mail.google.mailbox(address).add({ raw: composeMessage({ subject: 'Before the push', text: 'The first mail.' }) });
  const { done } = await connect(mail, owner, address);
  if (done.status !== 200) throw new Error(`callback failed: ${JSON.stringify(done.body)}`);
  const account = await waitForSync(mail.api, owner, done.body.id);
  t.context = { mail, owner, address, account };
});

test.after.always(async (t) => {
  await t.context.mail?.close();
});

function push(api: { url: string }, token: string | null, body: unknown): Promise<Reply> {
  return call(api, 'POST', '/v1/mail/push', { ...(token ? { token } : {}), body });
}

const validToken = (t: { context: Context }, claims: Partial<PushTokenClaims> = {}) =>
  t.context.mail.google.pushToken({ aud: AUDIENCE, ...claims });

/** Gmail history requests the stand-in has served for the address's mailbox so far. */
const historyReads = (t: { context: Context }) =>
  t.context.mail.google.requests.filter((request) => request.path === '/gmail/v1/users/me/history').length;

async function subjects(t: { context: Context }) {
  const reply = await call(t.context.mail.api, 'POST', '/v1/search', {
    ...as(t.context.owner),
    body: { query: 'push mail', k: 10, mode: 'lexical', filters: { source: 'email' } },
  });
  return (reply.body.results as { mail: { subject: string } }[]).map((hit) => hit.mail.subject).sort();
}

test.serial('a push signed by the push service account syncs the message it announces', async (t) => {
  const { mail, owner, address } = t.context;
  const before = await call(mail.api, 'GET', `/v1/mail/accounts/${t.context.account.id}`, as(owner));
  const mailbox = mail.google.mailbox(address);
  mailbox.add({ raw: composeMessage({ subject: 'Pushed mail', text: 'It came with a push.' }) });
  const reply = await push(
    mail.api,
    validToken(t),
    pushBody({ emailAddress: address, historyId: mailbox.currentHistoryId }),
  );
  t.is(reply.status, 204, JSON.stringify(reply.body));
  const synced = await waitForSync(mail.api, owner, t.context.account.id, before.body.lastSyncedAt);
  t.is(synced.historyId, mailbox.currentHistoryId.toString());
  t.is(synced.messageCount, 2);
  t.deepEqual(await subjects(t), ['Before the push', 'Pushed mail']);
});

test.serial('a push the account has already synced past, or for an address nobody has, is acknowledged', async (t) => {
  const { mail, address } = t.context;
  const reads = historyReads(t);
  const synced = mail.google.mailbox(address).currentHistoryId;
  for (const body of [
    pushBody({ emailAddress: address, historyId: synced }),
    pushBody({ emailAddress: address.toUpperCase(), historyId: synced - 1n }),
    pushBody({ emailAddress: `nobody-${Date.now()}@gmail.test`, historyId: 99_999_999 }),
  ]) {
    const reply = await push(mail.api, validToken(t), body);
    t.is(reply.status, 204, JSON.stringify(reply.body));
  }
  // None of them asked Gmail anything.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.is(historyReads(t), reads);
});

test.serial('a token that is not the push subscription’s is 401 invalid_push_token, and syncs nothing', async (t) => {
  const { mail, address } = t.context;
  const { google } = mail;
  const reads = historyReads(t);
  const now = Math.floor(Date.now() / 1000);
  const body = pushBody({ emailAddress: address, historyId: google.mailbox(address).currentHistoryId + 10n });
  const refused: Record<string, string | null> = {
    'no token': null,
    'not a JWT': 'not-a-token',
    'a Quarry session token': t.context.owner.token,
    'signed with a key Google does not serve': google.pushToken({ aud: AUDIENCE }, { foreign: true }),
    expired: validToken(t, { iat: now - 7200, exp: now - 3600 }),
    'for another audience': validToken(t, { aud: 'https://elsewhere.test/push' }),
    'of another service account': validToken(t, { email: 'someone@evil.iam.gserviceaccount.com' }),
    'with its email unverified': validToken(t, { email_verified: false }),
    'issued by someone else': validToken(t, { iss: 'https://evil.test' }),
  };
  for (const [what, token] of Object.entries(refused)) {
    const reply = await push(mail.api, token, body);
    t.is(reply.status, 401, what);
    t.is(reply.body.error?.code, 'invalid_push_token', what);
    t.false(JSON.stringify(reply.body).includes(token ?? 'no token at all'), `${what}: the token is not echoed`);
  }
  // A token's signature altered.
  const token = validToken(t);
  const forged = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  t.is((await push(mail.api, forged, body)).status, 401);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.is(historyReads(t), reads);
});

test.serial('a body that is not a Gmail push message is 400, with the field named', async (t) => {
  const { mail, address } = t.context;
  const data = (value: unknown) => ({
    message: { data: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64') },
  });
  const cases: [string, unknown, string][] = [
    ['no message', { subscription: 'projects/p/subscriptions/s' }, 'body.message'],
    ['no data', { message: { messageId: '1' } }, 'body.message.data'],
    ['data not base64', { message: { data: '%%%' } }, 'body.message.data'],
    ['data not JSON', data('not json'), 'body.message.data'],
    ['no address', data({ historyId: 5 }), 'body.message.data.emailAddress'],
    ['a bad address', data({ emailAddress: 'nobody', historyId: 5 }), 'body.message.data.emailAddress'],
    ['a negative history id', data({ emailAddress: address, historyId: -1 }), 'body.message.data.historyId'],
    ['a history id not a number', data({ emailAddress: address, historyId: 'x1' }), 'body.message.data.historyId'],
  ];
  for (const [what, body, path] of cases) {
    const reply = await push(mail.api, validToken(t), body);
    t.is(reply.status, 400, what);
    t.is(reply.body.error?.code, 'validation_failed', what);
    t.deepEqual(
      reply.body.error?.details.issues.map((issue: { path: string }) => issue.path),
      [path],
      what,
    );
  }
});

test.serial('the push lookup answers only whose accounts an address has, and mail stays hidden', async (t) => {
  const { mail, owner, address, account } = t.context;
  const pool = mail.api.pool;
  t.deepEqual(
    (await findPushTargets(pool, address.toUpperCase())).map(({ historyId: _h, ...target }) => target),
    [{ tenantId: owner.tenantId, userId: owner.userId, accountId: account.id }],
  );
  t.deepEqual(await findPushTargets(pool, 'nobody@gmail.test'), []);
  // Without the user's context the runtime role still sees no account, nor any of its mail.
  const visible = await pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT (SELECT count(*) FROM mail_accounts)::int + (SELECT count(*) FROM emails)::int AS n
  `);
  t.is(visible, 0);
});

test.serial('without push settings the endpoint is 404 mail_push_not_configured', async (t) => {
  const api = await startApi(t.context.mail.google.settings());
  try {
    const reply = await push(api, validToken(t), pushBody({ emailAddress: t.context.address, historyId: 1 }));
    t.is(reply.status, 404);
    t.is(reply.body.error.code, 'mail_push_not_configured');
    t.is(reply.headers.get('retry-after'), null);
  } finally {
    await api.close();
  }
});

test.serial('with Google’s certificates unreachable a push is 503 google_unavailable with Retry-After', async (t) => {
  const { google } = t.context.mail;
  const api = await startApi({
    ...google.settings(),
    ...google.pushSettings(AUDIENCE),
    MAIL_PUSH_CERTS_URL: 'http://127.0.0.1:1/oauth2/v1/certs',
  });
  try {
    const reply = await push(api, validToken(t), pushBody({ emailAddress: t.context.address, historyId: 1 }));
    t.is(reply.status, 503, JSON.stringify(reply.body));
    t.is(reply.body.error.code, 'google_unavailable');
    t.regex(reply.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  } finally {
    await api.close();
  }
});

test.serial(
  'with Temporal down a push is 503 temporal_unavailable with Retry-After, for Pub/Sub to retry',
  async (t) => {
    const { mail, address } = t.context;
    const base = testConfig(mail.settings);
    const [host, port] = base.TEMPORAL_ADDRESS!.split(':');
    const proxy = await startTcpProxy({ host: host!, port: Number(port) });
    const config = testConfig({ ...mail.settings, TEMPORAL_ADDRESS: proxy.address });
    const pool = await appPool();
    const temporal = await createTemporalClient(config, { callAttempts: API_CALL_ATTEMPTS });
    const server = await serve(
      createApp({ config, pool, temporal: temporal.client, logger: pino({ level: 'silent' }) }),
    );
    try {
      proxy.set('down');
      const body = pushBody({ emailAddress: address, historyId: mail.google.mailbox(address).currentHistoryId + 1n });
      const started = Date.now();
      const reply = await push(server, validToken(t), body);
      t.is(reply.status, 503, JSON.stringify(reply.body));
      t.is(reply.body.error.code, 'temporal_unavailable');
      t.regex(reply.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      t.true(Date.now() - started < 15_000);
    } finally {
      proxy.set('up');
      await server.close();
      await temporal.close();
      await pool.end();
      await proxy.close();
    }
  },
);
