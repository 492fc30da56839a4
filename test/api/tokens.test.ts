import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { SignJWT } from 'jose';
import { call, signUp, type ApiTestContext, withApi } from './harness.ts';

const test = withApi(anyTest as TestFn<ApiTestContext>);

/** A token as the API would sign it, with claims and expiry of the test's choosing. */
function craftToken(secret: string, claims: { sub: string; sid: string }, expiresAt: number): Promise<string> {
  return new SignJWT({ sid: claims.sid })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer('quarry')
    .setAudience('quarry-api')
    .setIssuedAt(expiresAt - 900)
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(secret));
}

function sessionOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sid: string };
  return payload.sid;
}

const now = () => Math.floor(Date.now() / 1000);

test('a request without credentials is 401 with a Bearer challenge', async (t) => {
  const reply = await call(t.context.api, 'GET', '/v1/auth/me');
  t.is(reply.status, 401);
  t.is(reply.body.error.code, 'unauthenticated');
  t.is(reply.headers.get('www-authenticate'), 'Bearer');
});

test('a garbage token is 401', async (t) => {
  for (const token of ['garbage', 'a.b.c', `${'x'.repeat(20)}.${'y'.repeat(20)}.${'z'.repeat(20)}`]) {
    const reply = await call(t.context.api, 'GET', '/v1/auth/me', { token });
    t.is(reply.status, 401);
    t.is(reply.body.error.code, 'invalid_token');
  }
  const notBearer = await call(t.context.api, 'GET', '/v1/auth/me', {
    headers: { authorization: 'Basic dXNlcjpwYXNz' },
  });
  t.is(notBearer.status, 401);
  t.is(notBearer.body.error.code, 'unauthenticated');
});

test('an expired token is 401 even though its session is live', async (t) => {
  const { api } = t.context;
  const account = await signUp(api, 'expired');
  const expired = await craftToken(
    api.config.JWT_SECRET as string,
    { sub: account.userId, sid: sessionOf(account.token) },
    now() - 60,
  );
  const reply = await call(api, 'GET', '/v1/auth/me', { token: expired });
  t.is(reply.status, 401);
  t.is(reply.body.error.code, 'invalid_token');
  t.is(reply.body.error.message, 'The token has expired');
  t.is((await call(api, 'GET', '/v1/auth/me', { token: account.token })).status, 200);
});

test('a token signed with another secret is 401', async (t) => {
  const { api } = t.context;
  const account = await signUp(api, 'forged');
  const forged = await craftToken(
    'another secret that is at least 32 chars',
    { sub: account.userId, sid: sessionOf(account.token) },
    now() + 600,
  );
  const reply = await call(api, 'GET', '/v1/auth/me', { token: forged });
  t.is(reply.status, 401);
  t.is(reply.body.error.code, 'invalid_token');
});

test('a well-signed token is 401 when its session does not exist or belongs to someone else', async (t) => {
  const { api } = t.context;
  const secret = api.config.JWT_SECRET as string;
  const [alice, bob] = await Promise.all([signUp(api, 'alice'), signUp(api, 'bob')]);
  const unknownSession = await craftToken(secret, { sub: alice.userId, sid: randomUUID() }, now() + 600);
  const borrowedSession = await craftToken(secret, { sub: alice.userId, sid: sessionOf(bob.token) }, now() + 600);
  for (const token of [unknownSession, borrowedSession]) {
    const reply = await call(api, 'GET', '/v1/auth/me', { token });
    t.is(reply.status, 401);
    t.is(reply.body.error.code, 'invalid_token');
  }
});

test('logout revokes only its own session', async (t) => {
  const { api } = t.context;
  const account = await signUp(api, 'two-sessions');
  const second = await call(api, 'POST', '/v1/auth/login', {
    body: { email: account.email, password: account.password },
  });
  t.is((await call(api, 'POST', '/v1/auth/logout', { token: account.token })).status, 204);
  t.is((await call(api, 'GET', '/v1/auth/me', { token: account.token })).status, 401);
  t.is((await call(api, 'POST', '/v1/auth/logout', { token: account.token })).status, 401);
  t.is((await call(api, 'GET', '/v1/auth/me', { token: second.body.token })).status, 200);
});
