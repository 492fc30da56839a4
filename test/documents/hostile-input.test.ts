// Ordinary bad input that used to answer 500: NUL characters in any text field or query string,
// a file name too long to be a title, a body whose Content-Encoding lies, methods no route
// takes. Each is a 4xx with a stable code, or is stored cleaned; and a refused upload leaves
// no blob, no job and no document behind.
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { call, signUp, tenantOwner, type Account } from '../api/harness.ts';
import { sendRaw } from '../helpers/raw-http.ts';
import { filesBelow, postText, settled, startDocuments, uploadFile, type DocumentsTestContext } from './harness.ts';

interface Context extends DocumentsTestContext {
  owner: Account & { tenantId: string };
}

const test = anyTest as TestFn<Context>;
const NUL = '\u0000';

test.before(async (t) => {
  t.context.docs = await startDocuments();
  t.context.owner = await tenantOwner(t.context.docs.api, 'hostile');
});

test.after.always(async (t) => {
  await t.context.docs?.close();
});

interface NulCase {
  readonly method: string;
  readonly path: string;
  readonly body?: Record<string, unknown>;
  /** Whether the request needs the owner's tenant header. */
  readonly tenant?: boolean;
  readonly field: string;
}

const NUL_CASES: readonly NulCase[] = [
  { method: 'POST', path: '/v1/search', body: { query: `par${NUL}ental` }, tenant: true, field: 'body.query' },
  {
    method: 'POST',
    path: '/v1/search',
    body: { query: 'leave', filters: { tags: ['ok', `h${NUL}r`] } },
    tenant: true,
    field: 'body.filters.tags.1',
  },
  { method: 'POST', path: '/v1/ask', body: { question: `How${NUL}?` }, tenant: true, field: 'body.question' },
  { method: 'POST', path: '/v1/conversations', body: { title: `T${NUL}` }, tenant: true, field: 'body.title' },
  { method: 'POST', path: '/v1/tenants', body: { name: `Ac${NUL}me` }, field: 'body.name' },
  {
    method: 'POST',
    path: '/v1/api-keys',
    body: { name: `ci${NUL}`, role: 'member' },
    tenant: true,
    field: 'body.name',
  },
  {
    method: 'POST',
    path: '/v1/documents',
    body: { title: `Hand${NUL}book`, text: 'Some text' },
    tenant: true,
    field: 'body.title',
  },
  {
    method: 'POST',
    path: '/v1/documents',
    body: { title: 'Handbook', description: `a${NUL}b`, text: 'Some text' },
    tenant: true,
    field: 'body.description',
  },
  {
    method: 'POST',
    path: '/v1/documents',
    body: { title: 'Handbook', tags: [`hr${NUL}`], text: 'Some text' },
    tenant: true,
    field: 'body.tags.0',
  },
  {
    method: 'POST',
    path: '/v1/documents',
    body: { title: 'Handbook', text: `Some${NUL}text` },
    tenant: true,
    field: 'body.text',
  },
  { method: 'GET', path: '/v1/documents?tag=%00', tenant: true, field: 'query.tag' },
  { method: 'GET', path: '/v1/jobs?kind=%00', tenant: true, field: 'query.kind' },
  { method: 'GET', path: '/v1/conversations?cursor=a%00b', tenant: true, field: 'query.cursor' },
];

for (const { method, path, body, tenant, field } of NUL_CASES) {
  test(`a NUL in ${field} of ${method} ${path.split('?')[0]} is 400 naming the field`, async (t) => {
    const { owner } = t.context;
    const reply = await call(t.context.docs.api, method, path, {
      token: owner.token,
      ...(tenant ? { tenantId: owner.tenantId } : {}),
      ...(body ? { body } : {}),
    });
    t.is(reply.status, 400, JSON.stringify(reply.body));
    t.is(reply.body.error.code, 'validation_failed');
    t.deepEqual(
      reply.body.error.details.issues.map((issue: { path: string; code: string }) => [issue.path, issue.code]),
      [[field, 'invalid_characters']],
    );
  });
}

test('a NUL in the display name at registration is 400 naming the field', async (t) => {
  const reply = await call(t.context.docs.api, 'POST', '/v1/auth/register', {
    body: { email: `nul-${Date.now()}@api.test`, password: 'a long passphrase', displayName: `Ada${NUL}` },
  });
  t.is(reply.status, 400);
  t.deepEqual(reply.body.error.details.issues[0], {
    path: 'body.displayName',
    message: 'Text may not contain the NUL character (U+0000)',
    code: 'invalid_characters',
  });
});

test('a NUL in a JSON key is 400 too', async (t) => {
  const { owner } = t.context;
  const reply = await call(t.context.docs.api, 'POST', '/v1/search', {
    token: owner.token,
    tenantId: owner.tenantId,
    rawBody: `{"query":"leave","k${NUL}":5}`.replace(NUL, '\\u0000'),
  });
  t.is(reply.status, 400);
  t.deepEqual(reply.body.error.details.issues[0].code, 'invalid_characters');
});

for (const field of ['title', 'description', 'tags']) {
  test(`a NUL in the multipart ${field} field is 400 and stores nothing`, async (t) => {
    const { docs } = t.context;
    const owner = await tenantOwner(docs.api, `nul-${field}`);
    const reply = await uploadFile(docs.api, owner, {
      filename: 'note.txt',
      bytes: Buffer.from('A note about parental leave.'),
      mimeType: 'text/plain',
      fields: { [field]: `x${NUL}y` },
    });
    t.is(reply.status, 400);
    t.deepEqual(
      reply.body.error.details.issues.map((issue: { path: string; code: string }) => [issue.path, issue.code]),
      [[field === 'tags' ? 'body.tags.0' : `body.${field}`, 'invalid_characters']],
    );
    t.deepEqual(await documentsAndJobs(t.context, owner), { documents: 0, jobs: 0 });
  });
}

async function documentsAndJobs(context: Context, owner: Account & { tenantId: string }) {
  return withTenant(context.docs.api.owner, { tenantId: owner.tenantId, userId: owner.userId }, async (tx) => ({
    documents: await tx.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int4 AS n FROM documents`),
    jobs: await tx.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int4 AS n FROM jobs`),
  }));
}

test('a NUL or control character in the file name is 400 invalid_multipart and stores nothing', async (t) => {
  const { docs } = t.context;
  const owner = await tenantOwner(docs.api, 'nul-filename');
  for (const control of [NUL, '\u0007', '\u007f']) {
    const reply = await uploadFile(docs.api, owner, {
      filename: `hand${control}book.txt`,
      bytes: Buffer.from('The handbook.'),
      mimeType: 'text/plain',
    });
    t.is(reply.status, 400, JSON.stringify(control));
    t.is(reply.body.error.code, 'invalid_multipart');
  }
  t.deepEqual(await documentsAndJobs(t.context, owner), { documents: 0, jobs: 0 });
  t.deepEqual(await filesBelow(path.join(docs.blobDir, 'documents', owner.tenantId)), []);
});

test('a 10,000-character file name without a title becomes a title cut to 500 characters', async (t) => {
  const { docs, owner } = t.context;
  const filename = `${'long-name-'.repeat(1000)}.txt`;
  const reply = await uploadFile(docs.api, owner, {
    filename,
    bytes: Buffer.from('A document whose name is very long.'),
    mimeType: 'text/plain',
  });
  t.is(reply.status, 201, JSON.stringify(reply.body));
  t.is(reply.body.filename, filename);
  t.true(reply.body.title.length <= 500);
  t.true(reply.body.title.endsWith('…'));
  t.true(filename.startsWith(reply.body.title.slice(0, -1)));
  t.is((await settled(docs.api, owner, reply.body.id)).body.status, 'completed');
});

test('a long file name of emoji is cut between characters, never inside one', async (t) => {
  const { docs, owner } = t.context;
  const reply = await uploadFile(docs.api, owner, {
    filename: `${'😀'.repeat(400)}.txt`,
    bytes: Buffer.from('Emoji everywhere.'),
    mimeType: 'text/plain',
  });
  t.is(reply.status, 201, JSON.stringify(reply.body));
  t.false(/[\ud800-\udbff](?![\udc00-\udfff])/.test(reply.body.title), 'no lone high surrogate');
  t.true(reply.body.title.length <= 500);
});

test('a UTF-8 file name is stored as sent and served back in Content-Disposition', async (t) => {
  const { docs, owner } = t.context;
  const reply = await uploadFile(docs.api, owner, {
    filename: '😀 Übersicht.txt',
    bytes: Buffer.from('Eine Übersicht.'),
    mimeType: 'text/plain',
  });
  t.is(reply.status, 201);
  t.is(reply.body.filename, '😀 Übersicht.txt');
  t.is(reply.body.title, '😀 Übersicht.txt');
  const download = await fetch(`${docs.api.url}/v1/documents/${reply.body.id}/content`, {
    headers: { authorization: `Bearer ${owner.token}`, 'x-tenant-id': owner.tenantId },
  });
  t.is(download.status, 200);
  t.regex(download.headers.get('content-disposition') ?? '', /filename\*=UTF-8''%F0%9F%98%80%20%C3%9Cbersicht\.txt/);
  t.is(download.headers.get('x-content-type-options'), 'nosniff');
});

test('every response says nosniff', async (t) => {
  for (const path of ['/healthz', '/v1/nothing-here', '/v1/jobs']) {
    const reply = await call(t.context.docs.api, 'GET', path);
    t.is(reply.headers.get('x-content-type-options'), 'nosniff', path);
  }
});

test('a body that is not the gzip its Content-Encoding says is 400 invalid_encoding', async (t) => {
  const account = await signUp(t.context.docs.api, 'encoding');
  for (const [encoding, body] of [
    ['gzip', '{"name":"Acme"}'],
    ['deflate', '{"name":"Acme"}'],
    ['br', '{"name":"Acme"}'],
  ] as const) {
    const reply = await call(t.context.docs.api, 'POST', '/v1/tenants', {
      token: account.token,
      rawBody: body,
      headers: { 'content-type': 'application/json', 'content-encoding': encoding },
    });
    t.is(reply.status, 400, `${encoding}: ${JSON.stringify(reply.body)}`);
    t.is(reply.body.error.code, 'invalid_encoding');
  }
});

test('a gzip body that is gzip is read', async (t) => {
  const account = await signUp(t.context.docs.api, 'gzip');
  const response = await fetch(`${t.context.docs.api.url}/v1/tenants`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${account.token}`,
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    },
    body: gzipSync(Buffer.from('{"name":"Zipped"}')),
  });
  t.is(response.status, 201);
  t.is(((await response.json()) as { name: string }).name, 'Zipped');
});

test('an unknown Content-Encoding is 415', async (t) => {
  const account = await signUp(t.context.docs.api, 'unknown-encoding');
  const reply = await call(t.context.docs.api, 'POST', '/v1/tenants', {
    token: account.token,
    rawBody: '{"name":"Acme"}',
    headers: { 'content-type': 'application/json', 'content-encoding': 'zstd-or-whatever' },
  });
  t.is(reply.status, 415);
  t.is(reply.body.error.code, 'unsupported_media_type');
  t.regex(reply.body.error.message, /Content-Encoding/);
});

test('a compressed multipart upload is 415 and stores nothing', async (t) => {
  const { docs } = t.context;
  const owner = await tenantOwner(docs.api, 'gzip-upload');
  const form = new FormData();
  form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt');
  const encoded = new Response(form);
  const bytes = gzipSync(Buffer.from(await encoded.arrayBuffer()));
  const response = await fetch(`${docs.api.url}/v1/documents`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${owner.token}`,
      'x-tenant-id': owner.tenantId,
      'content-type': encoded.headers.get('content-type')!,
      'content-encoding': 'gzip',
    },
    body: bytes,
  });
  t.is(response.status, 415);
  t.deepEqual(await documentsAndJobs(t.context, owner), { documents: 0, jobs: 0 });
});

for (const method of ['TRACE', 'PROPFIND', 'LINK']) {
  test(`${method} on a known path is 405 with Allow, and on an unknown one 404`, async (t) => {
    const known = await sendRaw(t.context.docs.api.url, { method, path: '/v1/documents', headers: {}, body: '' });
    t.is(known.status, 405, known.head);
    const allow = /\r\nAllow: ([^\r]*)/i.exec(known.head)?.[1] ?? '';
    t.deepEqual(allow.split(/,\s*/).sort(), ['GET', 'HEAD', 'POST']);
    t.regex(known.body, /"code":"method_not_allowed"/);
    const unknown = await sendRaw(t.context.docs.api.url, { method, path: '/v1/nothing-here', headers: {}, body: '' });
    t.is(unknown.status, 404, unknown.head);
    t.regex(unknown.body, /"code":"not_found"/);
  });
}

test('text documents refused for a NUL leave no blob behind', async (t) => {
  const { docs } = t.context;
  const owner = await tenantOwner(docs.api, 'nul-blob');
  const reply = await postText(docs.api, owner, { title: `x${NUL}`, text: 'body' });
  t.is(reply.status, 400);
  t.deepEqual(await filesBelow(path.join(docs.blobDir, 'documents', owner.tenantId)), []);
  t.deepEqual(await documentsAndJobs(t.context, owner), { documents: 0, jobs: 0 });
});

test('a JSON body nested 100,000 deep is 400, without exhausting stack or memory', async (t) => {
  const { owner } = t.context;
  for (const rawBody of [
    '['.repeat(100_000) + ']'.repeat(100_000),
    '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000),
  ]) {
    const reply = await call(t.context.docs.api, 'POST', '/v1/search', {
      token: owner.token,
      tenantId: owner.tenantId,
      rawBody,
    });
    t.is(reply.status, 400);
    t.is(reply.body.error.code, 'validation_failed');
  }
});
