// Seeds a demo user, tenant and API key through the running API, the way a client would,
// and keeps them in .local/demo.json so a restart reuses them. The demo user is made a
// platform admin (as the schema owner) so it can trigger maintenance from the API.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'slonik';
import type { Config } from '../../config.ts';
import { createDatabasePool } from '../../db/pool.ts';
import { withTenant } from '../../db/with-tenant.ts';

export interface Demo {
  readonly email: string;
  readonly password: string;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly apiKey: string;
}

const DEMO_TENANT = 'Demo';

async function call<T>(
  base: string,
  method: string,
  route: string,
  init: { token?: string; tenantId?: string; body?: unknown } = {},
) {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.tenantId ? { 'x-tenant-id': init.tenantId } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const payload = (await response.json().catch(() => null)) as T;
  return { status: response.status, body: payload };
}

async function login(base: string, email: string, password: string): Promise<{ token: string; userId: string } | null> {
  const response = await call<{ token: string; user: { id: string } }>(base, 'POST', '/v1/auth/login', {
    body: { email, password },
  });
  return response.status === 200 ? { token: response.body.token, userId: response.body.user.id } : null;
}

export async function seedDemo(config: Config, apiUrl: string): Promise<Demo> {
  const file = path.join(config.QUARRY_LOCAL_DIR, 'demo.json');
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Demo>) : {};
  const email = saved.email ?? 'demo@quarry.local';
  const password = saved.password ?? randomBytes(12).toString('base64url');

  let session = await login(apiUrl, email, password);
  if (!session) {
    const registered = await call(apiUrl, 'POST', '/v1/auth/register', {
      body: { email, password, displayName: 'Demo' },
    });
    if (registered.status !== 201) throw new Error(`demo registration failed: ${JSON.stringify(registered.body)}`);
    session = await login(apiUrl, email, password);
    if (!session) throw new Error('demo login failed after registration');
  }
  const { token, userId } = session;

  const tenants = await call<{ tenants: { id: string; name: string }[] }>(apiUrl, 'GET', '/v1/tenants', { token });
  const list = tenants.body.tenants;
  let tenantId = list.find((tenant) => tenant.id === saved.tenantId)?.id ?? list[0]?.id;
  if (!tenantId) {
    const created = await call<{ id: string }>(apiUrl, 'POST', '/v1/tenants', { token, body: { name: DEMO_TENANT } });
    if (created.status !== 201) throw new Error(`demo tenant creation failed: ${JSON.stringify(created.body)}`);
    tenantId = created.body.id;
  }

  let apiKey = saved.apiKey;
  const keyWorks = apiKey ? (await call(apiUrl, 'GET', '/v1/jobs', { token: apiKey })).status === 200 : false;
  if (!apiKey || !keyWorks) {
    const created = await call<{ key: string }>(apiUrl, 'POST', '/v1/api-keys', {
      token,
      tenantId,
      body: { name: 'demo', role: 'admin' },
    });
    if (created.status !== 201) throw new Error(`demo API key creation failed: ${JSON.stringify(created.body)}`);
    apiKey = created.body.key;
  }

  if (config.MIGRATION_DATABASE_URL) {
    const owner = await createDatabasePool(config.MIGRATION_DATABASE_URL, { maxPoolSize: 1 });
    try {
      await withTenant(owner, { userId }, (tx) =>
        tx.query(sql.unsafe`UPDATE users SET is_admin = true WHERE id = ${userId}`),
      );
    } finally {
      await owner.end();
    }
  }

  const demo: Demo = { email, password, tenantId, tenantName: DEMO_TENANT, apiKey };
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}
