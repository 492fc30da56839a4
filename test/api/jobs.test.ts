import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { workflowIdFor } from '../../contract/jobs.ts';
import { MAINTENANCE_SUBJECT } from '../../workflows/shared.ts';
import { postText, settled, startDocuments } from '../documents/harness.ts';
import {
  addMember,
  auditActions,
  call,
  insertJob,
  insertJobEvents,
  makePlatformAdmin,
  signUp,
  tenantOwner,
  type ApiTestContext,
  withApi,
} from './harness.ts';

const test = withApi(anyTest as TestFn<ApiTestContext>);

const ids = (reply: { body: { jobs: { id: string }[] } }) => reply.body.jobs.map((job) => job.id);

test('lists the tenant’s jobs newest first, page by page, without another tenant’s', async (t) => {
  const { api } = t.context;
  const [owner, other] = await Promise.all([tenantOwner(api), tenantOwner(api, 'other')]);
  const jobs: string[] = [];
  for (let age = 5; age >= 1; age -= 1) jobs.unshift(await insertJob(api, owner.tenantId, { ageSeconds: age }));
  await insertJob(api, other.tenantId);
  await insertJob(api, null);

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await call(api, 'GET', `/v1/jobs${query}`, { token: owner.token, tenantId: owner.tenantId });
    t.is(page.status, 200);
    t.true(page.body.jobs.length <= 2);
    seen.push(...ids(page));
    cursor = page.body.nextCursor;
  } while (cursor);
  t.deepEqual(seen, jobs);
});

test('pages stay exact when jobs share a creation time or differ by a microsecond', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const createdAt = '2026-01-02T03:04:05.123456Z';
  const created = await Promise.all(Array.from({ length: 4 }, () => insertJob(api, owner.tenantId, { createdAt })));
  const later = await insertJob(api, owner.tenantId, { createdAt: '2026-01-02T03:04:05.123457Z' });
  const first = await call(api, 'GET', '/v1/jobs?limit=3', { token: owner.token, tenantId: owner.tenantId });
  const second = await call(api, 'GET', `/v1/jobs?limit=3&cursor=${first.body.nextCursor}`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.is(second.body.nextCursor, null);
  t.is(ids(first)[0], later);
  t.deepEqual([...ids(first).slice(1), ...ids(second)].sort(), [...created].sort());
});

test('filters by kind and status', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const failed = await insertJob(api, owner.tenantId, { kind: 'ingest', status: 'failed' });
  await insertJob(api, owner.tenantId, { kind: 'ingest', status: 'completed' });
  await insertJob(api, owner.tenantId, { kind: 'sync', status: 'failed' });
  const reply = await call(api, 'GET', '/v1/jobs?kind=ingest&status=failed', {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.deepEqual(ids(reply), [failed]);
});

test('gets a job with its events in order', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const jobId = await insertJob(api, owner.tenantId);
  await insertJobEvents(api, owner.tenantId, jobId, ['extract', 'chunk', 'embed']);
  const reply = await call(api, 'GET', `/v1/jobs/${jobId}`, { token: owner.token, tenantId: owner.tenantId });
  t.is(reply.status, 200);
  t.like(reply.body, { id: jobId, tenantId: owner.tenantId, status: 'running' });
  t.deepEqual(
    reply.body.events.map((event: { step: string }) => event.step),
    ['extract', 'chunk', 'embed'],
  );
});

test('another tenant’s job, an unknown id and a malformed id are all 404', async (t) => {
  const { api } = t.context;
  const [owner, other] = await Promise.all([tenantOwner(api), tenantOwner(api, 'other')]);
  const theirs = await insertJob(api, other.tenantId);
  const platformJob = await insertJob(api, null);
  for (const id of [theirs, platformJob, randomUUID(), 'not-a-uuid', 'maintenance']) {
    const reply = await call(api, 'GET', `/v1/jobs/${id}`, { token: owner.token, tenantId: owner.tenantId });
    t.is(reply.status, 404, id);
    t.is(reply.body.error.code, 'not_found');
  }
});

test('rejects a bad cursor and an out-of-range limit with the field paths', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const reply = await call(api, 'GET', '/v1/jobs?cursor=bogus&limit=0&status=sleeping', {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  t.is(reply.status, 400);
  t.is(reply.body.error.code, 'validation_failed');
  t.deepEqual(reply.body.error.details.issues.map((issue: { path: string }) => issue.path).sort(), [
    'query.cursor',
    'query.limit',
    'query.status',
  ]);
});

test('platform admins also see platform jobs, and may leave the tenant out', async (t) => {
  const { api } = t.context;
  const admin = await tenantOwner(api, 'admin');
  await makePlatformAdmin(api, admin.userId);
  const kind = `platform-${randomUUID()}`;
  const platformJob = await insertJob(api, null, { kind });
  const tenantJob = await insertJob(api, admin.tenantId, { kind });

  const platformOnly = await call(api, 'GET', `/v1/jobs?kind=${kind}`, { token: admin.token });
  t.deepEqual(ids(platformOnly), [platformJob]);
  const both = await call(api, 'GET', `/v1/jobs?kind=${kind}`, { token: admin.token, tenantId: admin.tenantId });
  t.deepEqual(ids(both).sort(), [platformJob, tenantJob].sort());
  const one = await call(api, 'GET', `/v1/jobs/${platformJob}`, { token: admin.token });
  t.is(one.status, 200);
  t.is(one.body.tenantId, null);

  const plain = await tenantOwner(api, 'plain');
  const refused = await call(api, 'GET', `/v1/jobs?kind=${kind}`, { token: plain.token });
  t.is(refused.status, 400);
  t.is(refused.body.error.code, 'tenant_required');
  const mine = await call(api, 'GET', `/v1/jobs?kind=${kind}`, { token: plain.token, tenantId: plain.tenantId });
  t.deepEqual(ids(mine), []);
});

test('only platform admins may trigger maintenance', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api);
  const reply = await call(api, 'POST', '/v1/jobs/maintenance', { token: owner.token, body: {} });
  t.is(reply.status, 403);
  t.is(reply.body.error.code, 'forbidden');
  t.is((await call(api, 'POST', '/v1/jobs/maintenance')).status, 401);
});

test('a platform admin starts the maintenance workflow, and it is audited', async (t) => {
  const { api } = t.context;
  const admin = await signUp(api, 'operator');
  await makePlatformAdmin(api, admin.userId);
  const me = await call(api, 'GET', '/v1/auth/me', { token: admin.token });
  t.true(me.body.user.isAdmin);

  const reply = await call(api, 'POST', '/v1/jobs/maintenance', { token: admin.token, body: {} });
  t.is(reply.status, 202);
  t.is(reply.body.workflowId, workflowIdFor('maintenance', null, `${MAINTENANCE_SUBJECT}-manual`));
  t.is(typeof reply.body.runId, 'string');
  const description = await api.temporal.client.workflow.getHandle(reply.body.workflowId, reply.body.runId).describe();
  t.is(description.type, 'maintenanceWorkflow');

  const audits = await auditActions(api, { userId: admin.userId }, 'maintenance.trigger');
  t.deepEqual(audits, [{ targetId: reply.body.workflowId, actorUserId: admin.userId, actorApiKey: null }]);

  // The retention is the database's: a request cannot choose it.
  for (const retentionDays of [-1, 0, 30]) {
    const invalid = await call(api, 'POST', '/v1/jobs/maintenance', { token: admin.token, body: { retentionDays } });
    t.is(invalid.status, 400);
    t.is(invalid.body.error.code, 'validation_failed');
    t.like(invalid.body.error.details.issues[0], { path: 'body', code: 'unrecognized_keys' });
  }
});

test('the jobs of a private document are its uploader’s alone, in the list and by id', async (t) => {
  // An ingestion worker of the test's own writes the jobs, as in production.
  const docs = await startDocuments();
  t.teardown(() => docs.close());
  const { api } = docs;
  const owner = await tenantOwner(api);
  const [uploader, fellow, viewer] = await Promise.all([
    signUp(api, 'uploader'),
    signUp(api, 'fellow'),
    signUp(api, 'viewer'),
  ]);
  await addMember(api, owner.token, owner.tenantId, uploader.email, 'member');
  await addMember(api, owner.token, owner.tenantId, fellow.email, 'member');
  await addMember(api, owner.token, owner.tenantId, viewer.email, 'viewer');
  const key = await call(api, 'POST', '/v1/api-keys', {
    token: owner.token,
    tenantId: owner.tenantId,
    body: { name: 'ci', role: 'admin' },
  });
  const mine = { ...uploader, tenantId: owner.tenantId };

  const text = (label: string) => `${label} ${randomUUID()}: the minutes of the harbour board.`;
  const hidden = (await postText(api, mine, { title: 'Mine', text: text('private'), visibility: 'private' })).body.id;
  const shared = (await postText(api, mine, { title: 'Ours', text: text('shared') })).body.id;
  await Promise.all([settled(api, mine, hidden), settled(api, mine, shared)]);
  const deleted = await call(api, 'DELETE', `/v1/documents/${hidden}`, { token: mine.token, tenantId: mine.tenantId });
  t.is(deleted.status, 204);
  await api.temporal.client.workflow.getHandle(workflowIdFor('document-deletion', owner.tenantId, hidden)).result();

  const subjectsOf = (reply: { body: { jobs: { id: string; subject: string; kind: string }[] } }) =>
    reply.body.jobs.map((job) => `${job.kind}:${job.subject}`).sort();
  const asUploader = await call(api, 'GET', '/v1/jobs', { token: mine.token, tenantId: mine.tenantId });
  t.deepEqual(
    subjectsOf(asUploader),
    [`document-deletion:${hidden}`, `ingestion:${hidden}`, `ingestion:${shared}`].sort(),
  );
  const privateJobs = asUploader.body.jobs.filter((job: { subject: string }) => job.subject === hidden);
  for (const job of privateJobs) {
    const one = await call(api, 'GET', `/v1/jobs/${job.id}`, { token: mine.token, tenantId: mine.tenantId });
    t.is(one.status, 200);
    t.true(one.body.events.length > 0);
  }

  const others = [
    { label: 'the tenant owner', token: owner.token, tenantId: owner.tenantId },
    { label: 'another member', token: fellow.token, tenantId: owner.tenantId },
    { label: 'a viewer', token: viewer.token, tenantId: owner.tenantId },
    { label: 'an admin API key', token: key.body.key as string, tenantId: undefined },
  ];
  for (const other of others) {
    const listed = await call(api, 'GET', '/v1/jobs', { token: other.token, tenantId: other.tenantId });
    t.deepEqual(subjectsOf(listed), [`ingestion:${shared}`], other.label);
    for (const kind of ['ingestion', 'document-deletion']) {
      const filtered = await call(api, 'GET', `/v1/jobs?kind=${kind}`, {
        token: other.token,
        tenantId: other.tenantId,
      });
      t.false(JSON.stringify(filtered.body).includes(hidden), `${other.label}, kind ${kind}`);
    }
    for (const job of privateJobs) {
      const one = await call(api, 'GET', `/v1/jobs/${job.id}`, { token: other.token, tenantId: other.tenantId });
      t.is(one.status, 404, `${other.label}: ${job.kind}`);
      t.is(one.body.error.code, 'not_found');
    }
  }
});
