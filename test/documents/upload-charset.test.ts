// The charset a multipart file part declares (`text/plain; charset=windows-1252`) reaches
// extraction, though busboy reports the part's type without it: short legacy text, which
// detection alone reads in the wrong code page, is decoded as declared, stored and served with
// its declared type. A charset no decoder knows is refused with 415 and stores nothing.
import anyTest, { type TestFn } from 'ava';
import iconv from 'iconv-lite';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { call, tenantOwner } from '../api/harness.ts';
import { filesBelow, settled, uploadFile, withDocuments, type DocumentsTestContext } from './harness.ts';

const test = withDocuments(anyTest as TestFn<DocumentsTestContext>);

type Owner = Awaited<ReturnType<typeof tenantOwner>>;

function chunkText(t: { context: DocumentsTestContext }, owner: Owner, documentId: string): Promise<string> {
  return withTenant(t.context.docs.api.owner, owner, (tx) =>
    tx.oneFirst(sql.type(z.object({ text: z.string() }))`
      SELECT string_agg(content, '\n' ORDER BY ordinal) AS text FROM chunks WHERE document_id = ${documentId}`),
  );
}

// chardet reads these bytes as windows-1257 ("ĶSAFJÖRŠUR, ŽINGVELLIR, MŻVATN").
const PLACES = 'ÍSAFJÖRÐUR, ÞINGVELLIR, MÝVATN';

test('a text part declared windows-1252 is decoded as declared, where detection alone guesses otherwise', async (t) => {
  const { api } = t.context.docs;
  const bytes = iconv.encode(`${PLACES}\n`, 'windows-1252');

  const declaring = await tenantOwner(api);
  const declared = await uploadFile(api, declaring, {
    filename: 'places.txt',
    bytes,
    mimeType: 'text/plain; charset=windows-1252',
  });
  t.is(declared.status, 201);
  t.is(declared.body.mimeType, 'text/plain; charset=windows-1252');
  const detail = await settled(api, declaring, declared.body.id);
  t.like(detail.body, { status: 'completed', metadata: { format: 'txt', encoding: 'windows-1252' } });
  t.is(await chunkText(t, declaring, declared.body.id), PLACES);
  const served = await fetch(`${api.url}/v1/documents/${declared.body.id}/content`, {
    headers: { authorization: `Bearer ${declaring.token}`, 'x-tenant-id': declaring.tenantId },
  });
  t.is(served.headers.get('content-type'), 'text/plain; charset=windows-1252');
  t.deepEqual(Buffer.from(await served.arrayBuffer()), bytes);

  // The same bytes without a charset are read by detection, wrongly: what the declaration is for.
  const guessing = await tenantOwner(api);
  const undeclared = await uploadFile(api, guessing, { filename: 'places.txt', bytes, mimeType: 'text/plain' });
  t.is(undeclared.status, 201);
  t.like((await settled(api, guessing, undeclared.body.id)).body, { status: 'completed' });
  t.not(await chunkText(t, guessing, undeclared.body.id), PLACES);
});

test('an html part declared shift_jis is decoded as declared', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const greeting = 'こんにちは、世界';
  const upload = await uploadFile(api, owner, {
    filename: 'greeting.html',
    bytes: iconv.encode(`<p>${greeting}</p>\n`, 'shift_jis'),
    mimeType: 'text/html; charset=shift_jis',
  });
  t.is(upload.status, 201);
  t.is(upload.body.mimeType, 'text/html; charset=shift_jis');
  t.like((await settled(api, owner, upload.body.id)).body, {
    status: 'completed',
    metadata: { format: 'html', encoding: 'shift_jis' },
  });
  t.is(await chunkText(t, owner, upload.body.id), greeting);
});

test.serial('a text part declared in a charset no decoder knows is refused with 415, storing nothing', async (t) => {
  const { api, blobDir } = t.context.docs;
  const owner = await tenantOwner(api);
  const before = await filesBelow(blobDir);
  const reply = await uploadFile(api, owner, {
    filename: 'notes.txt',
    bytes: Buffer.from('Plain words.\n'),
    mimeType: 'text/plain; charset=x-klingon',
  });
  t.is(reply.status, 415);
  t.deepEqual(reply.body.error, {
    code: 'unsupported_charset',
    message: 'The file\'s declared charset "x-klingon" is not one Quarry can decode',
    details: { filename: 'notes.txt', declaredType: 'text/plain; charset=x-klingon', charset: 'x-klingon' },
  });
  t.deepEqual(await filesBelow(blobDir), before);
  const listed = await call(api, 'GET', '/v1/documents', { token: owner.token, tenantId: owner.tenantId });
  t.deepEqual(listed.body.documents, []);
});
