// The API under test: a real app (createApp) on a random port, over the run's PostgreSQL and
// Temporal, plus small helpers to call it and to set up accounts, tenants and jobs.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestFn } from 'ava';
import pino from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import { createApp, type ApiApp } from '../../api/app.ts';
import { withTenant } from '../../db/with-tenant.ts';
import type { Embedder } from '../../rag/embed/embedder.ts';
import { createTemporalClient, type TemporalHandle } from '../../workflow-client/connection.ts';
import { appPool, ownerPool, testConfig } from '../helpers/stack.ts';

export interface ApiHarness {
  readonly url: string;
  readonly config: Config;
  /** The runtime role's pool, the one the app uses. */
  readonly pool: DatabasePool;
  /** The schema owner's pool, for fixtures the API never writes (jobs, admin flags). */
  readonly owner: DatabasePool;
  readonly temporal: TemporalHandle;
  close(): Promise<void>;
}

/** Serves a Koa app on a random local port. */
export async function serve(app: Pick<ApiApp, 'callback'>): Promise<{ url: string; close(): Promise<void> }> {
  const handle = app.callback();
  const server = http.createServer((request, response) => void handle(request, response)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a test may put in place of the app's defaults. */
export interface ApiOptions {
  /** The size of the app's pool (default 4). */
  readonly maxPoolSize?: number;
  readonly embedder?: Embedder;
}

export async function startApi(overrides: Record<string, string> = {}, options: ApiOptions = {}): Promise<ApiHarness> {
  const config = testConfig(overrides);
  const pool = await appPool(options.maxPoolSize);
  const owner = await ownerPool();
  const temporal = await createTemporalClient(config);
  const app = createApp({
    config,
    pool,
    temporal: temporal.client,
    logger: pino({ level: 'silent' }),
    embedder: options.embedder,
  });
  const server = await serve(app);
  return {
    url: server.url,
    config,
    pool,
    owner,
    temporal,
    async close() {
      await server.close();
      await Promise.all([pool.end(), owner.end(), temporal.close()]);
    },
  };
}

export interface ApiTestContext {
  api: ApiHarness;
}

/** Gives a test file one API for all its tests: started before them, closed after. */
export function withApi(test: TestFn<ApiTestContext>, overrides: Record<string, string> = {}): TestFn<ApiTestContext> {
  test.before(async (t) => {
    t.context.api = await startApi(overrides);
  });
  test.after.always(async (t) => {
    await t.context.api?.close();
  });
  return test;
}

export interface CallOptions {
  readonly body?: unknown;
  /** Sent as is, with the content type given in headers (default application/json). */
  readonly rawBody?: string;
  readonly token?: string;
  readonly tenantId?: string;
  readonly headers?: Record<string, string>;
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the API sent
  readonly body: any;
}

export async function call(
  api: { url: string },
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.tenantId) headers['x-tenant-id'] = options.tenantId;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${api.url}${path}`, { method, headers, body });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('json');
  return { status: response.status, headers: response.headers, body: isJson && text ? JSON.parse(text) : text };
}

export interface Account {
  readonly userId: string;
  readonly email: string;
  readonly password: string;
  readonly token: string;
}

export const uniqueEmail = (label = 'user') => `${label}-${randomUUID()}@api.test`;

/** Registers a fresh account and signs it in. */
export async function signUp(api: { url: string }, label?: string): Promise<Account> {
  const email = uniqueEmail(label);
  const password = `pw-${randomUUID()}`;
  const registered = await call(api, 'POST', '/v1/auth/register', { body: { email, password } });
  if (registered.status !== 201) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
  const login = await call(api, 'POST', '/v1/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  return { userId: registered.body.id, email, password, token: login.body.token };
}

export async function createTenant(api: { url: string }, token: string, name = 'Acme'): Promise<string> {
  const created = await call(api, 'POST', '/v1/tenants', { token, body: { name } });
  if (created.status !== 201) throw new Error(`create tenant failed: ${JSON.stringify(created.body)}`);
  return created.body.id;
}

/** A fresh account that owns a fresh tenant. */
export async function tenantOwner(api: { url: string }, label = 'owner'): Promise<Account & { tenantId: string }> {
  const account = await signUp(api, label);
  return { ...account, tenantId: await createTenant(api, account.token) };
}

/** Adds an existing account to a tenant through the API, as that tenant's owner. */
export async function addMember(
  api: { url: string },
  ownerToken: string,
  tenantId: string,
  email: string,
  role: string,
) {
  const added = await call(api, 'POST', `/v1/tenants/${tenantId}/members`, {
    token: ownerToken,
    body: { email, role },
  });
  if (added.status !== 201) throw new Error(`add member failed: ${JSON.stringify(added.body)}`);
}

/** Makes an account a platform admin. FORCE RLS binds the owner too, so the context names the user. */
export async function makePlatformAdmin(api: ApiHarness, userId: string): Promise<void> {
  await withTenant(api.owner, { userId }, (tx) =>
    tx.query(sql.unsafe`UPDATE users SET is_admin = true WHERE id = ${userId}`),
  );
}

export interface JobFixture {
  readonly kind?: string;
  readonly status?: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  /** Seconds before now, so tests can fix the order. */
  readonly ageSeconds?: number;
  /** An exact creation time (microseconds count), overriding ageSeconds. */
  readonly createdAt?: string;
}

/** Inserts a job row as a worker activity would (the API never writes jobs). */
export async function insertJob(api: ApiHarness, tenantId: string | null, job: JobFixture = {}): Promise<string> {
  const id = randomUUID();
  await withTenant(api.owner, { tenantId, platform: tenantId === null }, (tx) =>
    tx.query(sql.unsafe`
      INSERT INTO jobs (id, tenant_id, kind, subject, workflow_id, run_id, status, created_at)
      VALUES (${id}, ${tenantId}, ${job.kind ?? 'test'}, ${`subject-${id}`}, ${`wf-${id}`}, ${randomUUID()},
              ${job.status ?? 'running'},
              COALESCE(${job.createdAt ?? null}::timestamptz, now() - ${job.ageSeconds ?? 0} * interval '1 second'))
    `),
  );
  return id;
}

export async function insertJobEvents(
  api: ApiHarness,
  tenantId: string | null,
  jobId: string,
  steps: readonly string[],
): Promise<void> {
  await withTenant(api.owner, { tenantId, platform: tenantId === null }, async (tx) => {
    for (const step of steps) {
      await tx.query(sql.unsafe`
        INSERT INTO job_events (job_id, tenant_id, step, status) VALUES (${jobId}, ${tenantId}, ${step}, 'info')
      `);
    }
  });
}

/** Audit rows of a tenant (or of a user alone, when tenantId is null) with this action. */
export async function auditActions(
  api: ApiHarness,
  context: { tenantId?: string; userId?: string },
  action: string,
): Promise<readonly { targetId: string | null; actorUserId: string | null; actorApiKey: string | null }[]> {
  return withTenant(api.owner, context, (tx) =>
    tx.any(sql.type(
      z.object({ targetId: z.string().nullable(), actorUserId: z.uuid().nullable(), actorApiKey: z.uuid().nullable() }),
    )`
      SELECT target_id AS "targetId", actor_user_id AS "actorUserId", actor_api_key AS "actorApiKey"
      FROM audit_log WHERE action = ${action} ORDER BY id
    `),
  );
}
