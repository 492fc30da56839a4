import anyTest, { type TestFn } from 'ava';
import { call, signUp, type ApiTestContext, withApi } from './harness.ts';

const BODY_LIMIT_BYTES = 2048;
const test = withApi(anyTest as TestFn<ApiTestContext>, { BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) });

test('malformed JSON is 400 invalid_json', async (t) => {
  const reply = await call(t.context.api, 'POST', '/v1/auth/register', { rawBody: '{"email": "a@b.c",' });
  t.is(reply.status, 400);
  t.deepEqual(reply.body, {
    error: { code: 'invalid_json', message: 'The request body is not valid JSON', details: {} },
  });
});

test('a JSON scalar where an object belongs is 400 invalid_json', async (t) => {
  const reply = await call(t.context.api, 'POST', '/v1/auth/login', { rawBody: '"just a string"' });
  t.is(reply.status, 400);
  t.is(reply.body.error.code, 'invalid_json');
});

test('wrong types are 400 validation_failed with every field path', async (t) => {
  const reply = await call(t.context.api, 'POST', '/v1/auth/register', {
    body: { email: 42, password: 123456789012, displayName: { nested: true } },
  });
  t.is(reply.status, 400);
  t.is(reply.body.error.code, 'validation_failed');
  t.deepEqual(
    reply.body.error.details.issues.map((issue: { path: string; code: string }) => [issue.path, issue.code]),
    [
      ['body.email', 'invalid_type'],
      ['body.password', 'invalid_type'],
      ['body.displayName', 'invalid_type'],
    ],
  );
});

test('a body over the limit is 413 payload_too_large', async (t) => {
  const reply = await call(t.context.api, 'POST', '/v1/auth/register', {
    body: { email: 'big@api.test', password: 'x'.repeat(BODY_LIMIT_BYTES) },
  });
  t.is(reply.status, 413);
  t.is(reply.body.error.code, 'payload_too_large');
  t.is(reply.body.error.details.limitBytes, BODY_LIMIT_BYTES);
});

test('a body that is not JSON is 415', async (t) => {
  const reply = await call(t.context.api, 'POST', '/v1/auth/login', {
    rawBody: 'email=a@b.c&password=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.is(reply.status, 415);
  t.is(reply.body.error.code, 'unsupported_media_type');
});

test('an unknown route is 404 not_found, and a known path with another method 405', async (t) => {
  const { api } = t.context;
  const unknown = await call(api, 'GET', '/v1/nothing-here');
  t.is(unknown.status, 404);
  t.is(unknown.body.error.code, 'not_found');
  const account = await signUp(api, 'methods');
  const unknownAuthed = await call(api, 'GET', '/v2/jobs', { token: account.token });
  t.is(unknownAuthed.status, 404);

  const wrongMethod = await call(api, 'PUT', '/v1/tenants', { body: { name: 'x' } });
  t.is(wrongMethod.status, 405);
  t.is(wrongMethod.body.error.code, 'method_not_allowed');
  t.deepEqual(wrongMethod.body.error.details.allowed.sort(), ['GET', 'HEAD', 'POST']);
  t.is(wrongMethod.headers.get('allow')?.split(', ').sort().join(', '), 'GET, HEAD, POST');
});

test('keeps a sane x-request-id and replaces anything else', async (t) => {
  const { api } = t.context;
  const kept = await call(api, 'GET', '/healthz', { headers: { 'x-request-id': 'trace-abc.123' } });
  t.is(kept.headers.get('x-request-id'), 'trace-abc.123');
  const replaced = await call(api, 'GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
  t.regex(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const generated = await call(api, 'GET', '/v1/nope');
  t.regex(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});
