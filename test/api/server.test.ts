import test from 'ava';
import pino from 'pino';
import { startApiServer } from '../../api/server.ts';
import { testConfig } from '../helpers/stack.ts';
import { call } from './harness.ts';

test('startApiServer serves the app and closes gracefully', async (t) => {
  const api = await startApiServer(testConfig({ API_PORT: '0', API_HOST: '127.0.0.1' }), pino({ level: 'silent' }));
  t.regex(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const ready = await call(api, 'GET', '/readyz');
  t.is(ready.status, 200);
  await api.close();
  t.false(api.server.listening);
  await t.throwsAsync(fetch(`${api.url}/healthz`));
});
