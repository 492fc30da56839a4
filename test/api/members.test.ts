import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { addMember, auditActions, call, signUp, tenantOwner, type ApiTestContext, withApi } from './harness.ts';

const test = withApi(anyTest as TestFn<ApiTestContext>);

const membersPath = (tenantId: string, userId?: string) =>
  `/v1/tenants/${tenantId}/members${userId ? `/${userId}` : ''}`;

test('an owner adds a member by email, and the member then sees the tenant', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const joiner = await signUp(api, 'joiner');
  const added = await call(api, 'POST', membersPath(owner.tenantId), {
    token: owner.token,
    body: { email: joiner.email.toUpperCase(), role: 'member' },
  });
  t.is(added.status, 201);
  t.like(added.body, { userId: joiner.userId, email: joiner.email, role: 'member' });

  const listed = await call(api, 'GET', membersPath(owner.tenantId), { token: joiner.token });
  t.is(listed.status, 200);
  t.deepEqual(
    listed.body.members.map((member: { userId: string; role: string }) => [member.userId, member.role]),
    [
      [owner.userId, 'owner'],
      [joiner.userId, 'member'],
    ],
  );
  const mine = await call(api, 'GET', '/v1/tenants', { token: joiner.token });
  t.deepEqual(
    mine.body.tenants.map((tenant: { id: string; role: string }) => [tenant.id, tenant.role]),
    [[owner.tenantId, 'member']],
  );
  const audits = await auditActions(api, { tenantId: owner.tenantId }, 'member.add');
  t.deepEqual(audits, [{ targetId: joiner.userId, actorUserId: owner.userId, actorApiKey: null }]);
});

test('viewers and members cannot manage members', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const [viewer, member, outsider] = await Promise.all([
    signUp(api, 'viewer'),
    signUp(api, 'member'),
    signUp(api, 'out'),
  ]);
  await addMember(api, owner.token, owner.tenantId, viewer.email, 'viewer');
  await addMember(api, owner.token, owner.tenantId, member.email, 'member');
  for (const caller of [viewer, member]) {
    const add = await call(api, 'POST', membersPath(owner.tenantId), {
      token: caller.token,
      body: { email: outsider.email, role: 'viewer' },
    });
    t.is(add.status, 403);
    t.is(add.body.error.code, 'forbidden');
    const change = await call(api, 'PATCH', membersPath(owner.tenantId, viewer.userId), {
      token: caller.token,
      body: { role: 'admin' },
    });
    t.is(change.status, 403);
    t.is((await call(api, 'DELETE', membersPath(owner.tenantId, owner.userId), { token: caller.token })).status, 403);
  }
  const listed = await call(api, 'GET', membersPath(owner.tenantId), { token: owner.token });
  t.is(listed.body.members.length, 3);
});

test('admins manage members but cannot add, change or remove owners', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const [admin, other] = await Promise.all([signUp(api, 'admin'), signUp(api, 'other')]);
  await addMember(api, owner.token, owner.tenantId, admin.email, 'admin');

  const asOwner = await call(api, 'POST', membersPath(owner.tenantId), {
    token: admin.token,
    body: { email: other.email, role: 'owner' },
  });
  t.is(asOwner.status, 403);
  const asViewer = await call(api, 'POST', membersPath(owner.tenantId), {
    token: admin.token,
    body: { email: other.email, role: 'viewer' },
  });
  t.is(asViewer.status, 201);
  const promote = await call(api, 'PATCH', membersPath(owner.tenantId, other.userId), {
    token: admin.token,
    body: { role: 'member' },
  });
  t.is(promote.status, 200);
  t.is(promote.body.role, 'member');
  const toOwner = await call(api, 'PATCH', membersPath(owner.tenantId, other.userId), {
    token: admin.token,
    body: { role: 'owner' },
  });
  t.is(toOwner.status, 403);
  const demoteOwner = await call(api, 'PATCH', membersPath(owner.tenantId, owner.userId), {
    token: admin.token,
    body: { role: 'viewer' },
  });
  t.is(demoteOwner.status, 403);
  t.is((await call(api, 'DELETE', membersPath(owner.tenantId, owner.userId), { token: admin.token })).status, 403);
  t.is((await call(api, 'DELETE', membersPath(owner.tenantId, other.userId), { token: admin.token })).status, 204);
});

test('the last owner can be neither removed nor demoted', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const removed = await call(api, 'DELETE', membersPath(owner.tenantId, owner.userId), { token: owner.token });
  t.is(removed.status, 409);
  t.is(removed.body.error.code, 'last_owner');
  const demoted = await call(api, 'PATCH', membersPath(owner.tenantId, owner.userId), {
    token: owner.token,
    body: { role: 'admin' },
  });
  t.is(demoted.status, 409);
  t.is(demoted.body.error.code, 'last_owner');

  const second = await signUp(api, 'second-owner');
  await addMember(api, owner.token, owner.tenantId, second.email, 'owner');
  const stepDown = await call(api, 'PATCH', membersPath(owner.tenantId, owner.userId), {
    token: owner.token,
    body: { role: 'admin' },
  });
  t.is(stepDown.status, 200);
  t.is(stepDown.body.role, 'admin');
  const audits = await auditActions(api, { tenantId: owner.tenantId }, 'member.role_change');
  t.is(audits.length, 1);
});

test('two owners demoting each other at once leave one owner', async (t) => {
  const { api } = t.context;
  const first = await tenantOwner(api);
  const second = await signUp(api, 'co-owner');
  await addMember(api, first.token, first.tenantId, second.email, 'owner');
  const replies = await Promise.all([
    call(api, 'PATCH', membersPath(first.tenantId, second.userId), { token: first.token, body: { role: 'admin' } }),
    call(api, 'PATCH', membersPath(first.tenantId, first.userId), { token: second.token, body: { role: 'admin' } }),
  ]);
  const listed = await call(api, 'GET', membersPath(first.tenantId), { token: first.token });
  const owners = listed.body.members.filter((member: { role: string }) => member.role === 'owner');
  t.is(owners.length, 1);
  const [winner, loser] = replies.map((reply) => reply.status).sort();
  t.is(winner, 200);
  t.true(loser === 403 || loser === 409, `the other demotion was answered ${loser}`);
});

test('adding an unknown email is 404 and adding a member twice is 409', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const unknown = await call(api, 'POST', membersPath(owner.tenantId), {
    token: owner.token,
    body: { email: `${randomUUID()}@nowhere.test`, role: 'member' },
  });
  t.is(unknown.status, 404);
  const again = await call(api, 'POST', membersPath(owner.tenantId), {
    token: owner.token,
    body: { email: owner.email, role: 'viewer' },
  });
  t.is(again.status, 409);
  t.is(again.body.error.code, 'already_member');
});

test('a tenant the caller is not in is 404, exactly like one that does not exist', async (t) => {
  const { api } = t.context;
  const [owner, stranger] = await Promise.all([tenantOwner(api), signUp(api, 'stranger')]);
  const foreign = await call(api, 'GET', membersPath(owner.tenantId), { token: stranger.token });
  const missing = await call(api, 'GET', membersPath(randomUUID()), { token: stranger.token });
  const malformed = await call(api, 'GET', membersPath('not-a-uuid'), { token: stranger.token });
  for (const reply of [foreign, missing, malformed]) {
    t.is(reply.status, 404);
    t.is(reply.body.error.code, 'not_found');
  }
  t.deepEqual(foreign.body, missing.body);
  const add = await call(api, 'POST', membersPath(owner.tenantId), {
    token: stranger.token,
    body: { email: stranger.email, role: 'owner' },
  });
  t.is(add.status, 404);
});

test('a removed member loses access at once, and a member id from elsewhere is 404', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const [leaver, elsewhere] = await Promise.all([signUp(api, 'leaver'), tenantOwner(api, 'elsewhere')]);
  await addMember(api, owner.token, owner.tenantId, leaver.email, 'admin');
  t.is((await call(api, 'GET', membersPath(owner.tenantId), { token: leaver.token })).status, 200);
  t.is((await call(api, 'DELETE', membersPath(owner.tenantId, leaver.userId), { token: owner.token })).status, 204);
  t.is((await call(api, 'GET', membersPath(owner.tenantId), { token: leaver.token })).status, 404);

  const notHere = await call(api, 'PATCH', membersPath(owner.tenantId, elsewhere.userId), {
    token: owner.token,
    body: { role: 'viewer' },
  });
  t.is(notHere.status, 404);
  t.is((await call(api, 'DELETE', membersPath(owner.tenantId, 'nope'), { token: owner.token })).status, 404);
});
