import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { auditActions, call, signUp, uniqueEmail, type ApiTestContext, withApi } from './harness.ts';

const test = withApi(anyTest as TestFn<ApiTestContext>);

test('registers, signs in, reads me, and logs out so the token stops working', async (t) => {
  const { api } = t.context;
  const email = uniqueEmail('Flow').toUpperCase();
  const password = 'correct horse battery';

  const registered = await call(api, 'POST', '/v1/auth/register', { body: { email, password, displayName: 'Ada' } });
  t.is(registered.status, 201);
  t.like(registered.body, { email: email.toLowerCase(), displayName: 'Ada', isAdmin: false });
  t.false('passwordHash' in registered.body);

  const login = await call(api, 'POST', '/v1/auth/login', { body: { email, password } });
  t.is(login.status, 200);
  t.is(login.body.user.id, registered.body.id);
  const expiresIn = Date.parse(login.body.expiresAt) - Date.now();
  t.true(expiresIn > 0 && expiresIn <= api.config.JWT_TTL_SECONDS * 1000);

  const me = await call(api, 'GET', '/v1/auth/me', { token: login.body.token });
  t.is(me.status, 200);
  t.deepEqual(me.body, { user: registered.body, tenants: [] });

  const logout = await call(api, 'POST', '/v1/auth/logout', { token: login.body.token });
  t.is(logout.status, 204);

  const after = await call(api, 'GET', '/v1/auth/me', { token: login.body.token });
  t.is(after.status, 401);
  t.is(after.body.error.code, 'invalid_token');
});

test('stores the password as an argon2id hash and audits the registration', async (t) => {
  const { api } = t.context;
  const account = await signUp(api, 'hash');
  const stored = await withTenant(api.owner, { userId: account.userId }, (tx) =>
    tx.oneFirst(
      sql.type(z.object({ hash: z.string() }))`SELECT password_hash AS hash FROM users WHERE id = ${account.userId}`,
    ),
  );
  t.regex(stored, /^\$argon2id\$/);
  t.false(stored.includes(account.password));

  const registrations = await auditActions(api, { userId: account.userId }, 'user.register');
  t.deepEqual(registrations, [{ targetId: account.userId, actorUserId: account.userId, actorApiKey: null }]);
  t.is((await auditActions(api, { userId: account.userId }, 'auth.login')).length, 1);
});

test('refuses a second account with the same email, whatever its case', async (t) => {
  const { api } = t.context;
  const account = await signUp(api, 'dupe');
  const again = await call(api, 'POST', '/v1/auth/register', {
    body: { email: account.email.toUpperCase(), password: 'another long password' },
  });
  t.is(again.status, 409);
  t.is(again.body.error.code, 'email_taken');
});

test('rejects a wrong password and an unknown email alike', async (t) => {
  const { api } = t.context;
  const account = await signUp(api, 'wrong');
  const wrong = await call(api, 'POST', '/v1/auth/login', {
    body: { email: account.email, password: 'not the password' },
  });
  const unknown = await call(api, 'POST', '/v1/auth/login', {
    body: { email: uniqueEmail(), password: 'whatever it is' },
  });
  t.is(wrong.status, 401);
  t.is(unknown.status, 401);
  t.deepEqual(wrong.body, unknown.body);
  t.is(wrong.body.error.code, 'invalid_credentials');
});

test('answers 429 with Retry-After once the failed logins for an email reach the limit', async (t) => {
  const { api } = t.context;
  const account = await signUp(api, 'limited');
  const attempt = (password: string) =>
    call(api, 'POST', '/v1/auth/login', { body: { email: account.email, password } });
  for (let i = 0; i < api.config.LOGIN_MAX_FAILURES; i += 1) {
    t.is((await attempt('wrong password!')).status, 401);
  }
  const limited = await attempt(account.password);
  t.is(limited.status, 429);
  t.is(limited.body.error.code, 'too_many_attempts');
  const retryAfter = Number(limited.headers.get('retry-after'));
  t.true(retryAfter > 0 && retryAfter <= api.config.LOGIN_WINDOW_SECONDS);

  const other = await signUp(api, 'not-limited');
  t.is(
    (await call(api, 'POST', '/v1/auth/login', { body: { email: other.email, password: other.password } })).status,
    200,
  );
});

test('a successful login gives back the failed-attempt budget', async (t) => {
  const { api } = t.context;
  const account = await signUp(api, 'reset');
  const attempt = (password: string) =>
    call(api, 'POST', '/v1/auth/login', { body: { email: account.email, password } });
  for (let i = 0; i < api.config.LOGIN_MAX_FAILURES - 1; i += 1) await attempt('wrong password!');
  t.is((await attempt(account.password)).status, 200);
  for (let i = 0; i < api.config.LOGIN_MAX_FAILURES - 1; i += 1) t.is((await attempt('wrong password!')).status, 401);
  t.is((await attempt(account.password)).status, 200);
});

test('validates registration input and names the fields', async (t) => {
  const { api } = t.context;
  const reply = await call(api, 'POST', '/v1/auth/register', { body: { email: 'not-an-email', password: 'short' } });
  t.is(reply.status, 400);
  t.is(reply.body.error.code, 'validation_failed');
  t.deepEqual(
    reply.body.error.details.issues.map((issue: { path: string }) => issue.path),
    ['body.email', 'body.password'],
  );
});

test('me and logout refuse API keys: they are for signed-in users', async (t) => {
  const { api } = t.context;
  const reply = await call(api, 'GET', '/v1/auth/me', { token: `qk_${'0'.repeat(12)}_${'a'.repeat(43)}` });
  t.is(reply.status, 401);
  t.is(reply.body.error.code, 'invalid_api_key');
  t.is((await call(api, 'GET', '/v1/auth/me', { headers: { 'x-api-key': randomUUID() } })).status, 401);
});
