import anyTest, { type TestFn } from 'ava';
import pino from 'pino';
import { createApp } from '../../api/app.ts';
import { createTemporalClient } from '../../workflow-client/connection.ts';
import { appPool, testConfig } from '../helpers/stack.ts';
import { call, serve, type ApiTestContext, withApi } from './harness.ts';

const METRICS_TOKEN = 'metrics-token-for-the-scraper';
const test = withApi(anyTest as TestFn<ApiTestContext>, { METRICS_TOKEN });

test('healthz answers without touching dependencies', async (t) => {
  const reply = await call(t.context.api, 'GET', '/healthz');
  t.is(reply.status, 200);
  t.deepEqual(reply.body, { status: 'ok' });
});

test('readyz is 200 when PostgreSQL and Temporal answer', async (t) => {
  const reply = await call(t.context.api, 'GET', '/readyz');
  t.is(reply.status, 200);
  const { workers, ...rest } = reply.body;
  t.deepEqual(rest, { status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
  // Which queues have workers is reported, but does not decide /readyz (see workers-readiness.test.ts).
  t.deepEqual(
    workers.queues.map((queue: { taskQueue: string }) => queue.taskQueue),
    [t.context.api.config.PLATFORM_TASK_QUEUE, t.context.api.config.INGESTION_TASK_QUEUE],
  );
});

test('readyz is 503 naming the dependency that failed', async (t) => {
  const config = testConfig();
  const pool = await appPool();
  const temporal = await createTemporalClient(config);
  await temporal.close();
  const server = await serve(createApp({ config, pool, temporal: temporal.client, logger: pino({ level: 'silent' }) }));
  const reply = await call(server, 'GET', '/readyz');
  await server.close();
  await pool.end();
  t.is(reply.status, 503);
  t.is(reply.body.error.code, 'not_ready');
  t.deepEqual(reply.body.error.details, { checks: { postgres: 'ok', temporal: 'failed' }, retryAfterSeconds: 5 });
  t.is(reply.headers.get('retry-after'), '5');
});

test('metrics expose the request-duration histogram by route template', async (t) => {
  const { api } = t.context;
  await call(api, 'GET', '/healthz');
  await call(api, 'GET', '/v1/jobs/0c6f4a66-0000-4000-8000-000000000000');
  const reply = await call(api, 'GET', '/metrics', { token: METRICS_TOKEN });
  t.is(reply.status, 200);
  t.regex(reply.headers.get('content-type') ?? '', /^text\/plain/);
  t.regex(reply.body, /http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} [1-9]/);
  t.regex(reply.body, /http_request_duration_seconds_count\{method="GET",route="\/v1\/jobs\/:jobId",status="401"\} 1/);
  t.regex(reply.body, /^process_cpu_user_seconds_total /m);
});

test('metrics are 401 without the metrics token, or with another one', async (t) => {
  for (const token of [undefined, 'not-the-metrics-token', `${METRICS_TOKEN}x`]) {
    const reply = await call(t.context.api, 'GET', '/metrics', token ? { token } : {});
    t.is(reply.status, 401, `token ${token}`);
    t.is(reply.body.error.code, 'invalid_metrics_token');
    t.notRegex(JSON.stringify(reply.body), /http_request_duration/);
  }
});

test('metrics are 404 when no metrics token is configured', async (t) => {
  const config = testConfig({ METRICS_TOKEN: '' });
  const pool = await appPool();
  const temporal = await createTemporalClient(config);
  const server = await serve(createApp({ config, pool, temporal: temporal.client, logger: pino({ level: 'silent' }) }));
  const reply = await call(server, 'GET', '/metrics', { token: METRICS_TOKEN });
  await server.close();
  await Promise.all([pool.end(), temporal.close()]);
  t.is(reply.status, 404);
  t.is(reply.body.error.code, 'not_found');
});

test('openapi.json documents every route the routers serve', async (t) => {
  const reply = await call(t.context.api, 'GET', '/openapi.json');
  t.is(reply.status, 200);
  t.is(reply.body.openapi, '3.1.0');
  const operations = Object.entries(reply.body.paths as Record<string, Record<string, unknown>>).flatMap(
    ([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );
  t.deepEqual(operations.sort(), [
    'DELETE /v1/api-keys/{apiKeyId}',
    'DELETE /v1/conversations/{conversationId}',
    'DELETE /v1/documents/{documentId}',
    'DELETE /v1/mail/accounts/{accountId}',
    'DELETE /v1/tenants/{tenantId}/members/{userId}',
    'GET /healthz',
    'GET /metrics',
    'GET /openapi.json',
    'GET /readyz',
    'GET /readyz/workers',
    'GET /v1/api-keys',
    'GET /v1/auth/me',
    'GET /v1/conversations',
    'GET /v1/conversations/{conversationId}',
    'GET /v1/documents',
    'GET /v1/documents/{documentId}',
    'GET /v1/documents/{documentId}/content',
    'GET /v1/jobs',
    'GET /v1/jobs/{jobId}',
    'GET /v1/mail/accounts',
    'GET /v1/mail/accounts/{accountId}',
    'GET /v1/mail/oauth/callback',
    'GET /v1/stats',
    'GET /v1/tenants',
    'GET /v1/tenants/{tenantId}/members',
    'PATCH /v1/tenants/{tenantId}/members/{userId}',
    'POST /v1/api-keys',
    'POST /v1/ask',
    'POST /v1/auth/login',
    'POST /v1/auth/logout',
    'POST /v1/auth/register',
    'POST /v1/conversations',
    'POST /v1/documents',
    'POST /v1/documents/batch',
    'POST /v1/documents/reembed',
    'POST /v1/documents/{documentId}/cancel',
    'POST /v1/documents/{documentId}/reprocess',
    'POST /v1/jobs/maintenance',
    'POST /v1/mail/accounts',
    'POST /v1/mail/accounts/{accountId}/sync',
    'POST /v1/mail/push',
    'POST /v1/search',
    'POST /v1/tenants',
    'POST /v1/tenants/{tenantId}/members',
  ]);
  const login = reply.body.paths['/v1/auth/login'].post;
  t.deepEqual(Object.keys(login.responses).sort(), ['200', '400', '401', '413', '415', '429']);
  t.deepEqual(login.requestBody.content['application/json'].schema.required, ['email', 'password']);
  const mailPush = reply.body.paths['/v1/mail/push'].post;
  t.deepEqual(Object.keys(mailPush.responses).sort(), ['204', '400', '401', '404', '413', '415', '503']);
  t.deepEqual(mailPush.security, [], 'Google signs a push: no Quarry credential');
  const filters = reply.body.components.schemas.SearchFilters.properties;
  t.deepEqual(reply.body.components.schemas.SearchSource.enum, ['upload', 'text', 'gmail', 'email', 'documents']);
  t.truthy(filters.source && filters.sources);
  const mail = JSON.stringify(reply.body.components.schemas.SearchResult.properties.mail);
  for (const field of ['subject', 'sender', 'sentAt', 'gmailMessageId', 'link', 'attachment', 'label']) {
    t.true(mail.includes(`"${field}"`), `SearchResult.mail documents ${field}`);
  }
  const jobs = reply.body.paths['/v1/jobs'].get;
  t.deepEqual(jobs.security, [{ bearer: [] }, { apiKey: [] }]);
  t.true(jobs.parameters.some((parameter: { name: string; in: string }) => parameter.name === 'x-tenant-id'));
  t.truthy(reply.body.components.schemas.Error);
  const upload = reply.body.paths['/v1/documents'].post;
  t.deepEqual(Object.keys(upload.requestBody.content).sort(), ['application/json', 'multipart/form-data']);
});
