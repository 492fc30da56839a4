// Connecting a Gmail mailbox end to end: the API (createApp) with the real google-auth-library
// and @googleapis/gmail clients against the Google stand-in. The consent page is the stand-in's
// authorize(), which turns the authorization URL the API made into Google's redirect; the test
// then follows that redirect to the API's callback.
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { GMAIL_READONLY_SCOPE } from '../../mail/google.ts';
import { createTokenCipher, sealContext } from '../../mail/token-cipher.ts';
import { addMember, call, startApi, tenantOwner, type ApiHarness } from '../api/harness.ts';
import { s256 } from '../../devtools/google-stand-in/google-server.ts';
import {
  as,
  connect as connectWith,
  followRedirect as callback,
  REDIRECT_URI,
  startMail,
  waitForSync,
  type MailHarness,
  type Owner,
} from './harness.ts';

type Context = MailHarness;
const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  t.context = await startMail();
});

test.after.always(async (t) => {
  await t.context.close();
});

function connect(t: { context: Context }, owner: Owner, email: string, body: object = {}, deny = false) {
  return connectWith(t.context, owner, email, body, deny);
}

const Count = z.object({ count: z.number().int() });

function countRows(api: ApiHarness, owner: Owner, table: 'mail_accounts' | 'mail_grants' | 'mail_oauth_sessions') {
  return withTenant(api.pool, { tenantId: owner.tenantId, userId: owner.userId }, (tx) =>
    tx.oneFirst(sql.type(Count)`SELECT count(*)::int AS count FROM ${sql.identifier([table])}`),
  );
}

test('connects a mailbox with PKCE S256 and stores the grant sealed, never answering a token', async (t) => {
  const { api, google } = t.context;
  const owner = await tenantOwner(api, 'mail-connect');
  const email = `connect-${owner.userId}@gmail.test`;
  const { started, redirect, done } = await connect(t, owner, email);

  const url = new URL(started.body.authorizationUrl);
  t.is(`${url.origin}${url.pathname}`, `${google.baseUrl}/o/oauth2/v2/auth`);
  t.like(Object.fromEntries(url.searchParams), {
    client_id: google.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    access_type: 'offline',
    prompt: 'consent',
    scope: GMAIL_READONLY_SCOPE,
    code_challenge_method: 'S256',
  });
  t.regex(url.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
  t.like(started.body.account, { status: 'connecting', address: null });

  t.is(done.status, 200, JSON.stringify(done.body));
  t.like(done.body, { id: started.body.account.id, address: email, status: 'idle', statusReason: null });

  // The verifier sent to the token endpoint is the one whose S256 the authorization URL carried.
  const code = new URL(redirect).searchParams.get('code');
  const exchange = google.requests.find((r) => r.path === '/token' && r.params.code === code);
  t.is(exchange?.status, 200);
  t.is(s256(exchange?.params.code_verifier ?? ''), url.searchParams.get('code_challenge') ?? 'none');
  t.is(exchange?.params.grant_type, 'authorization_code');

  const [grant] = google.grantsOf(email);
  const stored = await withTenant(api.pool, { tenantId: owner.tenantId, userId: owner.userId }, (tx) =>
    tx.one(sql.type(z.object({ keyId: z.string(), refresh: z.instanceof(Buffer), scopes: z.array(z.string()) }))`
      SELECT key_id AS "keyId", refresh_token_ciphertext AS refresh, scopes FROM mail_grants
      WHERE account_id = ${done.body.id}
    `),
  );
  const cipher = createTokenCipher(api.config.TOKEN_ENCRYPTION_KEY as string);
  t.is(stored.keyId, cipher.currentKeyId);
  t.deepEqual(stored.scopes, [GMAIL_READONLY_SCOPE]);
  t.is(
    cipher.open({ keyId: stored.keyId, ciphertext: stored.refresh }, sealContext.refreshToken(done.body.id)),
    grant!.refreshToken,
  );
  t.false(stored.refresh.includes(Buffer.from(grant?.refreshToken ?? '')));

  // The mailbox workflow's first (empty) sync, then the account stands still.
  await waitForSync(api, owner, done.body.id);
  const listed = await call(api, 'GET', '/v1/mail/accounts', as(owner));
  const shown = await call(api, 'GET', `/v1/mail/accounts/${done.body.id}`, as(owner));
  const { sync, ...shownAccount } = shown.body;
  t.deepEqual(listed.body.accounts, [shownAccount]);
  t.like(sync, { kind: 'mailbox', subject: done.body.id, status: 'running' });
  for (const text of [JSON.stringify(listed.body), JSON.stringify(shown.body), JSON.stringify(done.body)]) {
    t.false(text.includes(grant?.refreshToken ?? '?'));
    t.false(text.includes('ya29.'));
  }
});

test('a state that is unknown, already used or expired is a 400 that stores nothing', async (t) => {
  const { api, google } = t.context;
  const owner = await tenantOwner(api, 'mail-state');
  const email = `state-${owner.userId}@gmail.test`;

  const wrong = await call(api, 'GET', '/v1/mail/oauth/callback?state=not-a-state&code=4%2Fwhatever');
  t.like(wrong, { status: 400, body: { error: { code: 'oauth_state_invalid' } } });
  const missing = await call(api, 'GET', '/v1/mail/oauth/callback?code=4%2Fwhatever');
  t.like(missing, { status: 400, body: { error: { code: 'oauth_state_invalid' } } });

  const { redirect, done } = await connect(t, owner, email);
  t.is(done.status, 200);
  const grantsBefore = google.grantsOf(email).length;
  const reused = await callback(api, redirect);
  t.like(reused, { status: 400, body: { error: { code: 'oauth_state_used' } } });
  t.is(google.grantsOf(email).length, grantsBefore, 'no second exchange at Google');

  const started = await call(api, 'POST', '/v1/mail/accounts', { ...as(owner), body: { address: email } });
  t.is(started.body.account.id, done.body.id);
  await withTenant(api.pool, { tenantId: owner.tenantId, userId: owner.userId }, (tx) =>
    tx.query(sql.unsafe`UPDATE mail_oauth_sessions SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`),
  );
  const expired = await callback(api, google.authorize(started.body.authorizationUrl, { email }));
  t.like(expired, { status: 400, body: { error: { code: 'oauth_state_expired' } } });
  t.is(google.grantsOf(email).length, grantsBefore, 'the expired state exchanged nothing');
  t.is(await countRows(api, owner, 'mail_grants'), 1);
  t.is(await countRows(api, owner, 'mail_accounts'), 1);
});

test('a code exchanged with another verifier than the challenge’s is refused by the token endpoint', async (t) => {
  const { api, google } = t.context;
  const owner = await tenantOwner(api, 'mail-pkce');
  const started = await call(api, 'POST', '/v1/mail/accounts', { ...as(owner), body: {} });
  const url = new URL(started.body.authorizationUrl);
  url.searchParams.set('code_challenge', s256('a verifier the API never saw'));
  const done = await callback(api, google.authorize(url.toString(), { email: `pkce-${owner.userId}@gmail.test` }));
  t.like(done, { status: 400, body: { error: { code: 'oauth_code_rejected', details: { error: 'invalid_grant' } } } });
  t.is(await countRows(api, owner, 'mail_grants'), 0);
});

test('a refusal at Google is 400 oauth_access_denied and drops the account it would have connected', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api, 'mail-denied');
  const { started, done } = await connect(t, owner, `denied-${owner.userId}@gmail.test`, {}, true);
  t.like(done, { status: 400, body: { error: { code: 'oauth_access_denied' } } });
  t.is((await call(api, 'GET', `/v1/mail/accounts/${started.body.account.id}`, as(owner))).status, 404);
  t.is(await countRows(api, owner, 'mail_grants'), 0);
});

test('a grant without read access to Gmail is refused', async (t) => {
  const { api, google } = t.context;
  const owner = await tenantOwner(api, 'mail-scope');
  const started = await call(api, 'POST', '/v1/mail/accounts', { ...as(owner), body: {} });
  const redirect = google.authorize(started.body.authorizationUrl, {
    email: `scope-${owner.userId}@gmail.test`,
    scopes: ['openid'],
  });
  t.like(await callback(api, redirect), { status: 400, body: { error: { code: 'oauth_scope_not_granted' } } });
  t.is(await countRows(api, owner, 'mail_grants'), 0);
});

test('reconnecting an account that needs re-authorization reuses it, with its history id', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api, 'mail-reauth');
  const email = `reauth-${owner.userId}@gmail.test`;
  const first = await connect(t, owner, email);
  const id: string = first.done.body.id;
  await withTenant(api.pool, { tenantId: owner.tenantId, userId: owner.userId }, (tx) =>
    tx.query(sql.unsafe`
      UPDATE mail_accounts SET status = 'needs_reauth', status_reason = 'invalid_grant', history_id = '4242' WHERE id = ${id}
    `),
  );
  // Without the address, too: the mailbox Google names is matched to the existing account.
  for (const body of [{ address: email }, {}]) {
    const again = await connect(t, owner, email, body);
    t.is(again.done.status, 200, JSON.stringify(again.done.body));
    t.like(again.done.body, { id, status: 'idle', statusReason: null, historyId: '4242', address: email });
  }
  t.is(await countRows(api, owner, 'mail_accounts'), 1);
  t.is(await countRows(api, owner, 'mail_grants'), 1);
});

test('reconnecting as another Google account than the account’s is 409 and revokes the new grant', async (t) => {
  const { api, google } = t.context;
  const owner = await tenantOwner(api, 'mail-mismatch');
  const email = `mine-${owner.userId}@gmail.test`;
  await connect(t, owner, email);
  const other = `other-${owner.userId}@gmail.test`;
  const again = await connect(t, owner, other, { address: email });
  t.like(again.done, { status: 409, body: { error: { code: 'mail_address_mismatch' } } });
  t.deepEqual(
    google.grantsOf(other).map((grant) => grant.revoked),
    [true],
  );
});

test('disconnecting revokes the grant at Google and removes the account, or keeps it with keep=true', async (t) => {
  const { api, google } = t.context;
  const owner = await tenantOwner(api, 'mail-disconnect');
  const gone = `gone-${owner.userId}@gmail.test`;
  const kept = `kept-${owner.userId}@gmail.test`;
  const a = await connect(t, owner, gone);
  const b = await connect(t, owner, kept);

  t.is((await call(api, 'DELETE', `/v1/mail/accounts/${a.done.body.id}`, as(owner))).status, 204);
  t.deepEqual(
    google.grantsOf(gone).map((grant) => grant.revoked),
    [true],
  );
  const revoke = google.requests.findLast((r) => r.path === '/revoke');
  t.is(revoke?.params.token, google.grantsOf(gone)[0]?.refreshToken);
  t.is((await call(api, 'GET', `/v1/mail/accounts/${a.done.body.id}`, as(owner))).status, 404);

  t.is((await call(api, 'DELETE', `/v1/mail/accounts/${b.done.body.id}?keep=true`, as(owner))).status, 204);
  t.deepEqual(
    google.grantsOf(kept).map((grant) => grant.revoked),
    [true],
  );
  const shown = await call(api, 'GET', `/v1/mail/accounts/${b.done.body.id}`, as(owner));
  t.like(shown.body, { status: 'disconnected', address: kept });
  t.is(await countRows(api, owner, 'mail_grants'), 0);
  t.is((await call(api, 'DELETE', `/v1/mail/accounts/${a.done.body.id}`, as(owner))).status, 404);
});

test('another user of the tenant, its owner included, sees none of a member’s mail accounts', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api, 'mail-tenant-owner');
  const member = await tenantOwner(api, 'mail-member');
  await addMember(api, owner.token, owner.tenantId, member.email, 'member');
  const asMember = { ...member, tenantId: owner.tenantId };
  const { done } = await connect(t, asMember, `member-${member.userId}@gmail.test`);
  t.is(done.status, 200);
  t.is((await call(api, 'GET', `/v1/mail/accounts/${done.body.id}`, as(owner))).status, 404);
  t.deepEqual((await call(api, 'GET', '/v1/mail/accounts', as(owner))).body.accounts, []);
  t.is((await call(api, 'DELETE', `/v1/mail/accounts/${done.body.id}`, as(owner))).status, 404);
  t.is((await call(api, 'GET', `/v1/mail/accounts/${done.body.id}`, as(asMember))).status, 200);
});

test('without a Google OAuth client, connecting answers 501 mail_not_configured', async (t) => {
  const api = await startApi({ GOOGLE_OAUTH_CLIENT_ID: '' });
  t.teardown(() => api.close());
  const owner = await tenantOwner(api, 'mail-unconfigured');
  const started = await call(api, 'POST', '/v1/mail/accounts', { ...as(owner), body: {} });
  t.like(started, { status: 501, body: { error: { code: 'mail_not_configured' } } });
  t.false(started.headers.has('retry-after'));
  const back = await call(api, 'GET', '/v1/mail/oauth/callback?state=x&code=y');
  t.like(back, { status: 501, body: { error: { code: 'mail_not_configured' } } });
  t.deepEqual((await call(api, 'GET', '/v1/mail/accounts', as(owner))).body.accounts, []);
});
