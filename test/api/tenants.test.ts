import anyTest, { type TestFn } from 'ava';
import { auditActions, call, signUp, tenantOwner, type ApiTestContext, withApi } from './harness.ts';

const test = withApi(anyTest as TestFn<ApiTestContext>);

test('creating a tenant makes the creator its owner, and audits it', async (t) => {
  const { api } = t.context;
  const account = await signUp(api, 'creator');
  const created = await call(api, 'POST', '/v1/tenants', { token: account.token, body: { name: '  Acme Corp  ' } });
  t.is(created.status, 201);
  t.like(created.body, { name: 'Acme Corp', role: 'owner' });

  const listed = await call(api, 'GET', '/v1/tenants', { token: account.token });
  t.deepEqual(listed.body, { tenants: [created.body] });
  const me = await call(api, 'GET', '/v1/auth/me', { token: account.token });
  t.deepEqual(me.body.tenants, [created.body]);

  const audits = await auditActions(api, { tenantId: created.body.id }, 'tenant.create');
  t.deepEqual(audits, [{ targetId: created.body.id, actorUserId: account.userId, actorApiKey: null }]);
});

test('lists only the tenants the caller belongs to, oldest first', async (t) => {
  const { api } = t.context;
  const [alice, bob] = await Promise.all([tenantOwner(api, 'alice'), tenantOwner(api, 'bob')]);
  const second = await call(api, 'POST', '/v1/tenants', { token: alice.token, body: { name: 'Second' } });
  const listed = await call(api, 'GET', '/v1/tenants', { token: alice.token });
  t.deepEqual(
    listed.body.tenants.map((tenant: { id: string }) => tenant.id),
    [alice.tenantId, second.body.id],
  );
  t.false(listed.body.tenants.some((tenant: { id: string }) => tenant.id === bob.tenantId));
});

test('rejects a tenant without a name', async (t) => {
  const { api } = t.context;
  const account = await signUp(api, 'nameless');
  const reply = await call(api, 'POST', '/v1/tenants', { token: account.token, body: { name: '   ' } });
  t.is(reply.status, 400);
  t.is(reply.body.error.code, 'validation_failed');
  t.is(reply.body.error.details.issues[0].path, 'body.name');
  t.deepEqual((await call(api, 'GET', '/v1/tenants', { token: account.token })).body, { tenants: [] });
});

test('needs a signed-in user', async (t) => {
  const reply = await call(t.context.api, 'POST', '/v1/tenants', { body: { name: 'Anonymous' } });
  t.is(reply.status, 401);
});
