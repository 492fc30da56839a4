import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import {
  addMember,
  auditActions,
  call,
  insertJob,
  signUp,
  tenantOwner,
  type ApiHarness,
  type ApiTestContext,
  withApi,
} from './harness.ts';

const test = withApi(anyTest as TestFn<ApiTestContext>);

async function createKey(api: ApiHarness, token: string, tenantId: string, role = 'member', extra = {}) {
  return call(api, 'POST', '/v1/api-keys', { token, tenantId, body: { name: 'ci', role, ...extra } });
}

test('creates a key whose secret is shown once and stored only as a digest', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const created = await createKey(api, owner.token, owner.tenantId, 'admin');
  t.is(created.status, 201);
  t.regex(created.body.key, /^qk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  t.true(created.body.key.startsWith(`${created.body.prefix}_`));
  t.like(created.body, { name: 'ci', role: 'admin', createdBy: owner.userId, revokedAt: null, lastUsedAt: null });

  const listed = await call(api, 'GET', '/v1/api-keys', { token: owner.token, tenantId: owner.tenantId });
  t.is(listed.status, 200);
  t.is(listed.body.apiKeys.length, 1);
  t.false('key' in listed.body.apiKeys[0]);
  // The secret is base64url, which may itself hold '_': cut it after the prefix, not at a '_'.
  const secret = created.body.key.slice(`${created.body.prefix}_`.length);
  t.is(secret.length, 43);
  t.false(JSON.stringify(listed.body).includes(secret));

  const stored = await withTenant(api.owner, { tenantId: owner.tenantId }, (tx) =>
    tx.oneFirst(
      sql.type(z.object({ hash: z.string() }))`SELECT key_hash AS hash FROM api_keys WHERE id = ${created.body.id}`,
    ),
  );
  t.regex(stored, /^[0-9a-f]{64}$/);
  const audits = await auditActions(api, { tenantId: owner.tenantId }, 'api_key.create');
  t.deepEqual(audits, [{ targetId: created.body.id, actorUserId: owner.userId, actorApiKey: null }]);
});

test('a key works as a bearer or x-api-key, only within its own tenant', async (t) => {
  const { api } = t.context;
  const [owner, other] = await Promise.all([tenantOwner(api), tenantOwner(api, 'other')]);
  const mine = await insertJob(api, owner.tenantId);
  await insertJob(api, other.tenantId);
  const { key } = (await createKey(api, owner.token, owner.tenantId, 'viewer')).body;

  const asBearer = await call(api, 'GET', '/v1/jobs', { token: key });
  t.is(asBearer.status, 200);
  t.deepEqual(
    asBearer.body.jobs.map((job: { id: string }) => job.id),
    [mine],
  );
  const asHeader = await call(api, 'GET', '/v1/jobs', { headers: { 'x-api-key': key } });
  t.deepEqual(asHeader.body, asBearer.body);
  t.is((await call(api, 'GET', '/v1/jobs', { token: key, tenantId: owner.tenantId })).status, 200);

  const elsewhere = await call(api, 'GET', '/v1/jobs', { token: key, tenantId: other.tenantId });
  t.is(elsewhere.status, 404);
  t.is(elsewhere.body.error.code, 'not_found');

  const listed = await call(api, 'GET', '/v1/api-keys', { token: owner.token, tenantId: owner.tenantId });
  t.not(listed.body.apiKeys[0].lastUsedAt, null);
});

test('a key cannot reach the routes meant for signed-in users', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const { key } = (await createKey(api, owner.token, owner.tenantId, 'admin')).body;
  for (const [method, path] of [
    ['GET', '/v1/auth/me'],
    ['GET', '/v1/api-keys'],
    ['POST', '/v1/api-keys'],
    ['GET', `/v1/tenants/${owner.tenantId}/members`],
    ['POST', '/v1/jobs/maintenance'],
  ] as const) {
    const body = method === 'POST' ? { name: 'x', role: 'viewer' } : undefined;
    const reply = await call(api, method, path, { token: key, body });
    t.is(reply.status, 403, `${method} ${path}`);
    t.is(reply.body.error.code, 'user_required');
  }
});

test('a revoked key is refused from then on', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const created = (await createKey(api, owner.token, owner.tenantId)).body;
  t.is((await call(api, 'GET', '/v1/jobs', { token: created.key })).status, 200);

  const revoked = await call(api, 'DELETE', `/v1/api-keys/${created.id}`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.is(revoked.status, 204);
  const refused = await call(api, 'GET', '/v1/jobs', { token: created.key });
  t.is(refused.status, 401);
  t.is(refused.body.error.code, 'invalid_api_key');

  const again = await call(api, 'DELETE', `/v1/api-keys/${created.id}`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.is(again.status, 204);
  t.is((await auditActions(api, { tenantId: owner.tenantId }, 'api_key.revoke')).length, 1);
  const listed = await call(api, 'GET', '/v1/api-keys', { token: owner.token, tenantId: owner.tenantId });
  t.not(listed.body.apiKeys[0].revokedAt, null);
});

test('an expired key and a key with a wrong secret are refused', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const created = (await createKey(api, owner.token, owner.tenantId)).body;
  const tampered = `${created.key.slice(0, -1)}${created.key.endsWith('A') ? 'B' : 'A'}`;
  t.is((await call(api, 'GET', '/v1/jobs', { token: tampered })).status, 401);

  await withTenant(api.owner, { tenantId: owner.tenantId }, (tx) =>
    tx.query(sql.unsafe`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = ${created.id}`),
  );
  const expired = await call(api, 'GET', '/v1/jobs', { token: created.key });
  t.is(expired.status, 401);
  t.is(expired.body.error.message, 'The API key has expired');
});

test('a key’s role can be no higher than its creator’s, and viewers create none', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const [member, viewer] = await Promise.all([signUp(api, 'member'), signUp(api, 'viewer')]);
  await addMember(api, owner.token, owner.tenantId, member.email, 'member');
  await addMember(api, owner.token, owner.tenantId, viewer.email, 'viewer');
  t.is((await createKey(api, member.token, owner.tenantId, 'admin')).status, 403);
  t.is((await createKey(api, member.token, owner.tenantId, 'member')).status, 201);
  t.is((await createKey(api, viewer.token, owner.tenantId, 'viewer')).status, 403);
  const ownerRole = await createKey(api, owner.token, owner.tenantId, 'owner');
  t.is(ownerRole.status, 400);
  t.is(ownerRole.body.error.details.issues[0].path, 'body.role');
  const past = await createKey(api, owner.token, owner.tenantId, 'viewer', { expiresAt: '2000-01-01T00:00:00Z' });
  t.is(past.status, 400);
  t.is(past.body.error.details.issues[0].path, 'body.expiresAt');
});

test('only admins revoke keys created by someone else', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const member = await signUp(api, 'member');
  await addMember(api, owner.token, owner.tenantId, member.email, 'member');
  const ownersKey = (await createKey(api, owner.token, owner.tenantId, 'viewer')).body;
  const membersKey = (await createKey(api, member.token, owner.tenantId, 'viewer')).body;
  const path = (id: string) => `/v1/api-keys/${id}`;
  t.is((await call(api, 'DELETE', path(ownersKey.id), { token: member.token, tenantId: owner.tenantId })).status, 403);
  t.is((await call(api, 'DELETE', path(membersKey.id), { token: member.token, tenantId: owner.tenantId })).status, 204);
  t.is((await call(api, 'DELETE', path(ownersKey.id), { token: owner.token, tenantId: owner.tenantId })).status, 204);
});

test('keys of another tenant, unknown ids and malformed ids are 404', async (t) => {
  const { api } = t.context;
  const [owner, other] = await Promise.all([tenantOwner(api), tenantOwner(api, 'other')]);
  const theirs = (await createKey(api, other.token, other.tenantId)).body;
  for (const id of [theirs.id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
    const reply = await call(api, 'DELETE', `/v1/api-keys/${id}`, { token: owner.token, tenantId: owner.tenantId });
    t.is(reply.status, 404, id);
  }
  t.is((await call(api, 'GET', '/v1/jobs', { token: theirs.key })).status, 200);
});

test('the tenant header is required for users, and a foreign tenant is 404', async (t) => {
  const { api } = t.context;
  const [owner, other] = await Promise.all([tenantOwner(api), tenantOwner(api, 'other')]);
  const missing = await call(api, 'GET', '/v1/api-keys', { token: owner.token });
  t.is(missing.status, 400);
  t.is(missing.body.error.code, 'tenant_required');
  const foreign = await call(api, 'GET', '/v1/api-keys', { token: owner.token, tenantId: other.tenantId });
  t.is(foreign.status, 404);
  const garbage = await call(api, 'GET', '/v1/api-keys', { token: owner.token, tenantId: 'nope' });
  t.is(garbage.status, 404);
});

type Reach = 'admin' | 'member' | 'viewer' | 'refused';

/**
 * How far a key gets now, probing one route per role: listing jobs (viewer), uploading and
 * deleting a document (member; the upload's body is empty, so a key let through gets 400 and
 * the unknown document 404), and re-embedding the tenant (admin; the job it starts is ended).
 */
async function reach(api: ApiHarness, key: string): Promise<Reach> {
  const jobs = await call(api, 'GET', '/v1/jobs', { token: key });
  if (jobs.status === 401) return 'refused';
  if (jobs.status !== 200) throw new Error(`GET /v1/jobs answered ${jobs.status}`);
  const upload = await call(api, 'POST', '/v1/documents', { token: key, body: {} });
  const removal = await call(api, 'DELETE', `/v1/documents/${randomUUID()}`, { token: key });
  if (upload.status === 403 && removal.status === 403) return 'viewer';
  if (upload.status !== 400 || removal.status !== 404) {
    throw new Error(`upload answered ${upload.status} and removal ${removal.status}`);
  }
  const reembed = await call(api, 'POST', '/v1/documents/reembed', { token: key });
  if (reembed.status === 403) return 'member';
  if (reembed.status !== 202) throw new Error(`re-embed answered ${reembed.status}`);
  await api.temporal.client.workflow.getHandle(reembed.body.workflowId).terminate('test: probe only');
  return 'admin';
}

async function setRole(api: ApiHarness, owner: { token: string; tenantId: string }, userId: string, role: string) {
  const reply = await call(api, 'PATCH', `/v1/tenants/${owner.tenantId}/members/${userId}`, {
    token: owner.token,
    body: { role },
  });
  if (reply.status !== 200) throw new Error(`role change answered ${reply.status}`);
}

test('a key can do no more than its creator may do now: demotion caps it, promotion restores it', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const admin = await signUp(api, 'admin');
  await addMember(api, owner.token, owner.tenantId, admin.email, 'admin');
  const { key } = (await createKey(api, admin.token, owner.tenantId, 'admin')).body;
  t.is(await reach(api, key), 'admin');

  await setRole(api, owner, admin.userId, 'viewer');
  t.is(await reach(api, key), 'viewer');
  const upload = await call(api, 'POST', '/v1/documents', { token: key, body: { title: 'x', text: 'y' } });
  t.is(upload.status, 403);
  t.is(upload.body.error.code, 'forbidden');

  await setRole(api, owner, admin.userId, 'member');
  t.is(await reach(api, key), 'member');
  await setRole(api, owner, admin.userId, 'admin');
  t.is(await reach(api, key), 'admin');
});

test('a key never exceeds its own role, however high its creator rises', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const member = await signUp(api, 'member');
  await addMember(api, owner.token, owner.tenantId, member.email, 'member');
  const viewerKey = (await createKey(api, member.token, owner.tenantId, 'viewer')).body.key;
  const memberKey = (await createKey(api, member.token, owner.tenantId, 'member')).body.key;
  await setRole(api, owner, member.userId, 'owner');
  t.is(await reach(api, viewerKey), 'viewer');
  t.is(await reach(api, memberKey), 'member');
  t.is(await reach(api, (await createKey(api, owner.token, owner.tenantId, 'member')).body.key), 'member');
});

test('a key dies with its creator’s membership or account', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const [leaver, deleted] = await Promise.all([signUp(api, 'leaver'), signUp(api, 'deleted')]);
  await addMember(api, owner.token, owner.tenantId, leaver.email, 'admin');
  await addMember(api, owner.token, owner.tenantId, deleted.email, 'admin');
  const leaversKey = (await createKey(api, leaver.token, owner.tenantId, 'admin')).body.key;
  const deletedsKey = (await createKey(api, deleted.token, owner.tenantId, 'member')).body.key;
  t.is(await reach(api, leaversKey), 'admin');
  t.is(await reach(api, deletedsKey), 'member');

  const removed = await call(api, 'DELETE', `/v1/tenants/${owner.tenantId}/members/${leaver.userId}`, {
    token: owner.token,
  });
  t.is(removed.status, 204);
  // The account goes as its owner would delete it: the membership with it, the key's creator set NULL.
  await withTenant(api.pool, { userId: deleted.userId }, (tx) =>
    tx.query(sql.unsafe`DELETE FROM users WHERE id = ${deleted.userId}`),
  );

  for (const key of [leaversKey, deletedsKey]) {
    for (const [method, path] of [
      ['GET', '/v1/jobs'],
      ['POST', '/v1/search'],
      ['POST', '/v1/documents'],
      ['POST', '/v1/documents/reembed'],
    ] as const) {
      const reply = await call(api, method, path, { token: key, body: method === 'POST' ? {} : undefined });
      t.is(reply.status, 401, `${method} ${path}`);
      t.like(reply.body.error, {
        code: 'invalid_api_key',
        message: 'The API key’s creator is no longer a member of its tenant',
      });
    }
  }
});
