import { Writable } from 'node:stream';
import test from 'ava';
import Koa from 'koa';
import pino from 'pino';
import type { ApiContextExtension, ApiServices, ApiState } from '../../api/context.ts';
import { ConflictError } from '../../api/errors.ts';
import { errorHandler } from '../../api/middleware/error-handler.ts';
import { requestContext } from '../../api/middleware/request-context.ts';
import { serve } from './harness.ts';

/** A bare app with the error handler and request context in front of a failing middleware. */
async function serveFailing(failure: () => never) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const app = new Koa<ApiState, ApiContextExtension>();
  app.context.services = { logger: pino(sink) } as unknown as ApiServices;
  app.use(errorHandler({ bodyLimitBytes: 1024 }));
  app.use(requestContext());
  app.use(() => failure());
  return { ...(await serve(app)), lines };
}

test('an unexpected error is a 500 that shows no internals and is logged with the request id', async (t) => {
  const app = await serveFailing(() => {
    throw new Error('connection to 10.0.0.7 refused: password for quarry_app');
  });
  const response = await fetch(app.url, { headers: { 'x-request-id': 'req-500' } });
  const body = await response.json();
  await app.close();
  t.is(response.status, 500);
  t.deepEqual(body, { error: { code: 'internal_error', message: 'Something went wrong on our side', details: {} } });
  const logged = app.lines.find((line) => line.msg === 'unhandled error');
  t.is(logged?.requestId, 'req-500');
  t.regex(JSON.stringify(logged?.err), /connection to 10\.0\.0\.7 refused/);
});

test('an ApiError keeps its status, code, message and details', async (t) => {
  const app = await serveFailing(() => {
    throw new ConflictError('email_taken', 'An account with this email already exists');
  });
  const response = await fetch(app.url);
  const body = await response.json();
  await app.close();
  t.is(response.status, 409);
  t.deepEqual(body, {
    error: { code: 'email_taken', message: 'An account with this email already exists', details: {} },
  });
  t.false(app.lines.some((line) => line.msg === 'unhandled error'));
});
