// A dependency that is down answers 503 with Retry-After, promptly, on every route that needs
// it, and the API recovers by itself once it is back: PostgreSQL and Temporal are each reached
// through a TCP proxy that can refuse every connection, as a stopped server does.
import path from 'node:path';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import pino from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createApp } from '../../api/app.ts';
import { createDatabasePool } from '../../db/pool.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { API_CALL_ATTEMPTS, createTemporalClient, type TemporalHandle } from '../../workflow-client/connection.ts';
import {
  documentSettings,
  filesBelow,
  postText,
  startIngestionWorker,
  type RunningWorker,
} from '../documents/harness.ts';
import { testConfig } from '../helpers/stack.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { call, serve, tenantOwner, type Account } from './harness.ts';

interface Context {
  url: string;
  pool: DatabasePool;
  temporal: TemporalHandle;
  worker: RunningWorker;
  postgresProxy: TcpProxy;
  temporalProxy: TcpProxy;
  owner: Account & { tenantId: string };
  documentId: string;
  blobDir: string;
  close(): Promise<void>;
}

const test = anyTest as TestFn<Context>;
/** How long a request may take to be told the dependency is down. */
const PROMPT_MS = 10_000;
const Count = z.object({ n: z.number() });

test.before(async (t) => {
  const settings = documentSettings();
  const base = testConfig(settings);
  const database = new URL(base.DATABASE_URL!);
  const postgresProxy = await startTcpProxy({ host: database.hostname, port: Number(database.port) });
  const [temporalHost, temporalPort] = base.TEMPORAL_ADDRESS!.split(':');
  const temporalProxy = await startTcpProxy({ host: temporalHost!, port: Number(temporalPort) });
  database.port = String(postgresProxy.port);
  const config = testConfig({
    ...settings,
    DATABASE_URL: database.toString(),
    TEMPORAL_ADDRESS: temporalProxy.address,
  });
  const pool = await createDatabasePool(config.DATABASE_URL!, { maxPoolSize: 4 });
  const temporal = await createTemporalClient(config, { callAttempts: API_CALL_ATTEMPTS });
  const server = await serve(createApp({ config, pool, temporal: temporal.client, logger: pino({ level: 'silent' }) }));
  const worker = await startIngestionWorker(settings);
  const owner = await tenantOwner(server, 'outage');
  const document = await postText(server, owner, { title: 'Handbook', text: 'Parental leave is sixteen weeks.' });
  if (document.status !== 201) throw new Error(`fixture: ${JSON.stringify(document.body)}`);
  t.context = {
    url: server.url,
    pool,
    temporal,
    worker,
    postgresProxy,
    temporalProxy,
    owner,
    documentId: document.body.id,
    blobDir: settings.BLOB_DIR!,
    async close() {
      await server.close();
      await worker.stop();
      await Promise.all([pool.end(), temporal.close()]);
      await Promise.all([postgresProxy.close(), temporalProxy.close()]);
    },
  };
});

test.after.always(async (t) => {
  await t.context.close?.();
});

type Request = [method: string, path: string, body?: unknown];

function databaseRoutes(c: Context): Request[] {
  const id = c.documentId;
  return [
    ['POST', '/v1/auth/login', { email: c.owner.email, password: c.owner.password }],
    ['POST', '/v1/auth/register', { email: `new-${Date.now()}@api.test`, password: 'a long passphrase' }],
    ['GET', '/v1/auth/me'],
    ['GET', '/v1/tenants'],
    ['POST', '/v1/tenants', { name: 'Another' }],
    ['GET', `/v1/tenants/${c.owner.tenantId}/members`],
    ['GET', '/v1/api-keys'],
    ['POST', '/v1/api-keys', { name: 'ci', role: 'member' }],
    ['GET', '/v1/jobs'],
    ['GET', '/v1/documents'],
    ['GET', `/v1/documents/${id}`],
    ['GET', `/v1/documents/${id}/content`],
    ['POST', '/v1/documents', { title: 'During the outage', text: 'Written while PostgreSQL is down.' }],
    ['POST', '/v1/search', { query: 'parental leave' }],
    ['POST', '/v1/ask', { question: 'How long is parental leave?' }],
    ['GET', '/v1/conversations'],
    ['POST', '/v1/conversations', { title: 'Outage' }],
    ['GET', '/v1/stats'],
  ];
}

function temporalRoutes(c: Context): Request[] {
  const id = c.documentId;
  return [
    ['POST', '/v1/documents', { title: 'While Temporal is down', text: `Written at ${Date.now()}.` }],
    ['POST', `/v1/documents/${id}/reprocess`],
    ['POST', '/v1/documents/reembed'],
    ['DELETE', `/v1/documents/${id}`],
  ];
}

async function send(c: Context, [method, path, body]: Request) {
  const started = Date.now();
  const reply = await call({ url: c.url }, method, path, {
    token: c.owner.token,
    tenantId: c.owner.tenantId,
    ...(body === undefined ? {} : { body }),
  });
  return { ...reply, ms: Date.now() - started };
}

async function assertUnavailable(t: ExecutionContext<Context>, routes: Request[], code: string) {
  for (const route of routes) {
    const reply = await send(t.context, route);
    const label = `${route[0]} ${route[1]}`;
    t.is(reply.status, 503, `${label}: ${JSON.stringify(reply.body)}`);
    t.is(reply.body.error?.code, code, label);
    t.regex(reply.headers.get('retry-after') ?? '', /^[1-9]\d*$/, `${label} Retry-After`);
    t.true(reply.ms < PROMPT_MS, `${label} took ${reply.ms} ms`);
  }
}

/** Retries each route until it answers below 500, for up to `ms`; answers the statuses. */
async function recovered(c: Context, routes: Request[], ms: number) {
  const deadline = Date.now() + ms;
  const statuses: Record<string, number> = {};
  for (const route of routes) {
    for (;;) {
      const reply = await send(c, route);
      statuses[`${route[0]} ${route[1]}`] = reply.status;
      if (reply.status < 500 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return statuses;
}

test.serial('with PostgreSQL down every route that needs it is 503 database_unavailable, then recovers', async (t) => {
  t.context.postgresProxy.set('down');
  try {
    await assertUnavailable(t, databaseRoutes(t.context), 'database_unavailable');
  } finally {
    t.context.postgresProxy.set('up');
  }
  const statuses = await recovered(t.context, databaseRoutes(t.context), 20_000);
  t.deepEqual(
    Object.entries(statuses).filter(([, status]) => status >= 500),
    [],
  );
});

test.serial(
  'with Temporal down every route that starts or signals a job is 503 temporal_unavailable, then recovers',
  async (t) => {
    t.context.temporalProxy.set('down');
    try {
      await assertUnavailable(t, temporalRoutes(t.context), 'temporal_unavailable');
    } finally {
      t.context.temporalProxy.set('up');
    }
    const statuses = await recovered(t.context, temporalRoutes(t.context).slice(0, 1), 30_000);
    t.is(statuses['POST /v1/documents'], 201);
  },
);

test.serial(
  'an upload refused while Temporal is down names its document, and its retry is that document',
  async (t) => {
    const upload: Request = ['POST', '/v1/documents', { title: 'Retried', text: `Sent twice at ${Date.now()}.` }];
    t.context.temporalProxy.set('down');
    let refused;
    try {
      refused = await send(t.context, upload);
    } finally {
      t.context.temporalProxy.set('up');
    }
    t.is(refused.status, 503);
    const documentId = refused.body.error?.details?.documentId as string;
    t.regex(documentId ?? '', /^[0-9a-f-]{36}$/);
    let retried = await send(t.context, upload);
    for (const deadline = Date.now() + 30_000; retried.status >= 500 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      retried = await send(t.context, upload);
    }
    t.is(retried.status, 201, JSON.stringify(retried.body));
    t.is(retried.body.id, documentId);
    const { tenantId, userId } = t.context.owner;
    const counts = await withTenant(t.context.pool, { tenantId, userId }, async (tx) => ({
      documents: await tx.oneFirst(sql.type(Count)`SELECT count(*)::int4 AS n FROM documents WHERE id = ${documentId}`),
      jobs: await tx.oneFirst(
        sql.type(Count)`SELECT count(*)::int4 AS n FROM jobs WHERE kind = 'ingestion' AND subject = ${documentId}`,
      ),
    }));
    t.deepEqual(counts, { documents: 1, jobs: 1 });
    const blobs = await filesBelow(path.join(t.context.blobDir, 'documents', tenantId, documentId));
    t.is(blobs.filter((file) => path.basename(file).startsWith('original-')).length, 1);
  },
);
