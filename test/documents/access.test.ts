// Who sees and may change which documents: tenants never see each other's, private documents
// are their uploader's alone, viewers only read, and foreign or unknown ids are all 404.
import { randomBytes, randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { addMember, call, signUp, tenantOwner, type Account } from '../api/harness.ts';
import { readFixture } from '../rag/fixtures.ts';
import { postText, settled, uploadFile, withDocuments, type DocumentsTestContext } from './harness.ts';

const test = withDocuments(anyTest as TestFn<DocumentsTestContext>);

type Caller = Account & { tenantId: string };

const get = (t: { context: DocumentsTestContext }, caller: Caller, path: string) =>
  call(t.context.docs.api, 'GET', path, { token: caller.token, tenantId: caller.tenantId });

const listedIds = async (t: { context: DocumentsTestContext }, caller: Caller, query = '') =>
  ((await get(t, caller, `/v1/documents${query}`)).body.documents as { id: string }[]).map((doc) => doc.id);

const text = (label: string) => `${label} ${randomBytes(8).toString('hex')}: minutes of the harbour board.`;

test('tenants never see each other’s documents, and private ones are their uploader’s alone', async (t) => {
  const { api } = t.context.docs;
  const [a, b] = await Promise.all([tenantOwner(api, 'a'), tenantOwner(api, 'b')]);
  const member = await signUp(api, 'member');
  await addMember(api, a.token, a.tenantId, member.email, 'member');
  const m: Caller = { ...member, tenantId: a.tenantId };

  const shared = (await uploadFile(api, a, { filename: 'notes.txt', bytes: await readFixture('notes.txt') })).body.id;
  const mine = (await postText(api, m, { title: 'Mine', text: text('private'), visibility: 'private' })).body.id;
  const theirs = (await postText(api, b, { title: 'Theirs', text: text('other tenant') })).body.id;
  await Promise.all([settled(api, a, shared), settled(api, m, mine), settled(api, b, theirs)]);

  t.deepEqual(await listedIds(t, a), [shared]);
  t.deepEqual(await listedIds(t, m), [mine, shared]);
  t.deepEqual(await listedIds(t, b), [theirs]);

  for (const path of ['', '/content']) {
    t.is((await get(t, m, `/v1/documents/${mine}${path}`)).status, 200);
    t.is((await get(t, a, `/v1/documents/${mine}${path}`)).status, 404, `private ${path}`);
    t.is((await get(t, a, `/v1/documents/${theirs}${path}`)).status, 404, `foreign ${path}`);
    t.is((await get(t, b, `/v1/documents/${shared}${path}`)).status, 404, `foreign ${path}`);
    t.is((await get(t, a, `/v1/documents/${randomUUID()}${path}`)).status, 404, `unknown ${path}`);
    t.is((await get(t, a, `/v1/documents/not-a-uuid${path}`)).status, 404, `malformed ${path}`);
  }
  // Naming the other tenant does not help: the caller is not a member there.
  const other = await call(api, 'GET', `/v1/documents/${theirs}`, { token: a.token, tenantId: b.tenantId });
  t.is(other.status, 404);
  for (const [method, path] of [
    ['POST', `/v1/documents/${theirs}/reprocess`],
    ['POST', `/v1/documents/${mine}/cancel`],
    ['DELETE', `/v1/documents/${mine}`],
    ['DELETE', `/v1/documents/${theirs}`],
  ] as const) {
    t.is((await call(api, method, path, { token: a.token, tenantId: a.tenantId })).status, 404, `${method} ${path}`);
  }
  t.is((await get(t, m, `/v1/documents/${mine}`)).body.status, 'completed');
  t.is((await get(t, b, `/v1/documents/${theirs}`)).body.status, 'completed');
});

test('viewers read documents but cannot upload, reprocess, cancel or delete', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const viewer = await signUp(api, 'viewer');
  await addMember(api, owner.token, owner.tenantId, viewer.email, 'viewer');
  const v: Caller = { ...viewer, tenantId: owner.tenantId };
  const id = (await postText(api, owner, { title: 'Readable', text: text('viewer') })).body.id;
  await settled(api, owner, id);

  t.deepEqual(await listedIds(t, v), [id]);
  t.is((await get(t, v, `/v1/documents/${id}`)).status, 200);
  t.is((await postText(api, v, { title: 'No', text: text('refused') })).status, 403);
  t.is((await uploadFile(api, v, { filename: 'x.txt', bytes: Buffer.from(text('refused')) })).status, 403);
  for (const [method, path] of [
    ['POST', `/v1/documents/${id}/reprocess`],
    ['POST', `/v1/documents/${id}/cancel`],
    ['DELETE', `/v1/documents/${id}`],
  ] as const) {
    const reply = await call(api, method, path, { token: v.token, tenantId: v.tenantId });
    t.is(reply.status, 403, `${method} ${path}`);
    t.is(reply.body.error.code, 'forbidden');
  }
  t.is((await get(t, owner, `/v1/documents/${id}`)).body.status, 'completed');
});

test('an API key uploads tenant documents, but not private ones', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const key = await call(api, 'POST', '/v1/api-keys', {
    token: owner.token,
    tenantId: owner.tenantId,
    body: { name: 'ingest', role: 'member' },
  });
  const headers = { 'x-api-key': key.body.key };
  const created = await call(api, 'POST', '/v1/documents', { headers, body: { title: 'By key', text: text('key') } });
  t.is(created.status, 201);
  t.like(created.body, { ownerUserId: key.body.id, visibility: 'tenant' });
  const done = await settled(api, owner, created.body.id);
  t.is(done.body.status, 'completed');
  const refused = await call(api, 'POST', '/v1/documents', {
    headers,
    body: { title: 'Private by key', text: text('key'), visibility: 'private' },
  });
  t.is(refused.status, 400);
  t.is(refused.body.error.details.issues[0].path, 'body.visibility');
});

test('downloads the original with its media type and file name', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const bytes = await readFixture('report.pdf');
  const id = (await uploadFile(api, owner, { filename: 'report.pdf', bytes, mimeType: 'application/pdf' })).body.id;
  const response = await fetch(`${api.url}/v1/documents/${id}/content`, {
    headers: { authorization: `Bearer ${owner.token}`, 'x-tenant-id': owner.tenantId },
  });
  t.is(response.status, 200);
  t.is(response.headers.get('content-type'), 'application/pdf');
  t.is(response.headers.get('content-disposition'), 'attachment; filename="report.pdf"');
  t.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);

  const note = text('download');
  const textId = (await postText(api, owner, { title: 'Board minutes', text: note })).body.id;
  const textReply = await fetch(`${api.url}/v1/documents/${textId}/content`, {
    headers: { authorization: `Bearer ${owner.token}`, 'x-tenant-id': owner.tenantId },
  });
  t.is(textReply.headers.get('content-type'), 'text/plain; charset=utf-8');
  t.is(textReply.headers.get('content-disposition'), 'attachment; filename="Board minutes.txt"');
  t.is(await textReply.text(), note);
  await Promise.all([settled(api, owner, id), settled(api, owner, textId)]);
});

test('lists with filters, newest first, page by page', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const ids: string[] = [];
  for (const [i, tags] of [['alpha'], ['beta'], ['alpha', 'beta']].entries()) {
    ids.unshift((await postText(api, owner, { title: `Doc ${i}`, text: text(`list ${i}`), tags })).body.id);
  }
  const failed = (await uploadFile(api, owner, { filename: 'corrupt.pdf', bytes: await readFixture('corrupt.pdf') }))
    .body.id;
  await Promise.all([...ids, failed].map((id) => settled(api, owner, id)));
  const middle = (await get(t, owner, `/v1/documents/${ids[1]}`)).body.createdAt as string;

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await get(t, owner, `/v1/documents?limit=2&source=text${cursor ? `&cursor=${cursor}` : ''}`);
    t.true(page.body.documents.length <= 2);
    seen.push(...page.body.documents.map((doc: { id: string }) => doc.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  t.deepEqual(seen, ids);

  t.deepEqual(await listedIds(t, owner, '?tag=alpha'), [ids[0], ids[2]]);
  t.deepEqual(await listedIds(t, owner, '?status=failed'), [failed]);
  t.deepEqual(await listedIds(t, owner, '?source=upload'), [failed]);
  t.deepEqual(await listedIds(t, owner, `?source=text&createdBefore=${encodeURIComponent(middle)}`), [ids[2]]);
  t.deepEqual(await listedIds(t, owner, `?source=text&createdAfter=${encodeURIComponent(middle)}`), [ids[0], ids[1]]);
  const invalid = await get(t, owner, '/v1/documents?status=lost&cursor=nope&createdAfter=yesterday');
  t.is(invalid.status, 400);
  t.deepEqual(invalid.body.error.details.issues.map((issue: { path: string }) => issue.path).sort(), [
    'query.createdAfter',
    'query.cursor',
    'query.status',
  ]);
});
