import { once } from 'node:events';
import http from 'node:http';
import anyTest, { type TestFn } from 'ava';
import { call, signUp, type ApiTestContext, withApi } from './harness.ts';

const BODY_LIMIT_BYTES = 2048;
const test = withApi(anyTest as TestFn<ApiTestContext>, { BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) });

/** Larger than what the parser reads before it gives up, small enough to sit in the socket buffers. */
const UNREAD_BODY_BYTES = 256 * 1024;
const NEXT_ANSWER_TIMEOUT_MS = 5_000;

/** Sends a request on the agent and reads its answer to the end. */
async function exchange(
  agent: http.Agent,
  url: string,
  request: { method: string; path: string; headers?: http.OutgoingHttpHeaders; body?: Buffer },
): Promise<{ status: number; reusedSocket: boolean }> {
  const sent = http.request(`${url}${request.path}`, {
    agent,
    method: request.method,
    headers: request.headers,
    signal: AbortSignal.timeout(NEXT_ANSWER_TIMEOUT_MS),
  });
  sent.end(request.body);
  try {
    const [response] = (await once(sent, 'response')) as [http.IncomingMessage];
    response.resume();
    await once(response, 'end');
    return { status: response.statusCode ?? 0, reusedSocket: sent.reusedSocket };
  } catch (error) {
    throw new Error(`no answer within ${NEXT_ANSWER_TIMEOUT_MS} ms to ${request.method} ${request.path}`, {
      cause: error,
    });
  }
}

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

for (const [title, headers, status] of [
  ['a body that fails to inflate', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 400],
  ['a chunked body over the limit', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, 413],
] as const) {
  test(`the next request on a kept-alive connection is answered after ${title}`, async (t) => {
    // One socket for both requests, as a keep-alive client reuses it: the body the parser
    // stopped reading must not stand in front of the next request.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = Buffer.alloc(UNREAD_BODY_BYTES, ' ');
      const refused = await exchange(agent, t.context.api.url, {
        method: 'POST',
        path: '/v1/auth/login',
        headers,
        body,
      });
      t.is(refused.status, status);
      const next = await exchange(agent, t.context.api.url, { method: 'GET', path: '/healthz' });
      t.deepEqual(next, { status: 200, reusedSocket: true });
    } finally {
      agent.destroy();
    }
  });
}
