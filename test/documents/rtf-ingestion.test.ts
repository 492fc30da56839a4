// RTF through the API: a Word file in a legacy code page is ingested, its text decoded and
// found by search, its \info title kept as metadata; a truncated one fails once, with its
// reason, never stuck and never a 5xx.
import anyTest, { type TestFn } from 'ava';
import { call, tenantOwner } from '../api/harness.ts';
import { readFixture } from '../rag/fixtures.ts';
import { settled, stepHistory, uploadFile, withDocuments, type DocumentsTestContext } from './harness.ts';

const test = withDocuments(anyTest as TestFn<DocumentsTestContext>);

test('an rtf upload ends completed, decoded in its code pages, and is found by search', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const czech = await uploadFile(api, owner, {
    filename: 'testRTFWord2010CzechCharacters.rtf',
    mimeType: 'application/rtf',
    bytes: await readFixture('testRTFWord2010CzechCharacters.rtf'),
  });
  t.is(czech.status, 201);
  t.is(czech.body.mimeType, 'application/rtf');
  const japanese = await uploadFile(api, owner, {
    filename: 'testRTF-ms932.rtf',
    mimeType: 'text/rtf',
    bytes: await readFixture('testRTF-ms932.rtf'),
  });
  t.is(japanese.status, 201);

  const czechDetail = await settled(api, owner, czech.body.id);
  t.like(czechDetail.body, { status: 'completed', error: null, metadata: { format: 'rtf' } });
  const japaneseDetail = await settled(api, owner, japanese.body.id);
  t.like(japaneseDetail.body, {
    status: 'completed',
    metadata: { format: 'rtf', title: 'タイトル', author: 'shinsuke' },
  });

  const search = await call(api, 'POST', '/v1/search', {
    token: owner.token,
    tenantId: owner.tenantId,
    body: { query: 'Svitky od Mrtvého moře', mode: 'lexical', k: 5 },
  });
  t.is(search.status, 200);
  const [best] = search.body.results as { documentId: string; text: string }[];
  t.is(best?.documentId, czech.body.id);
  t.true(best!.text.includes('Část svitku s textem Knihy Izajáš'), best!.text.slice(0, 120));
});

test('a truncated rtf fails after one attempt with the reason, and its document says so', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const upload = await uploadFile(api, owner, {
    filename: 'testRTF-truncated.rtf',
    mimeType: 'application/rtf',
    bytes: await readFixture('testRTF-truncated.rtf'),
  });
  t.is(upload.status, 201);
  const detail = await settled(api, owner, upload.body.id);
  t.is(detail.body.status, 'failed');
  t.is(
    detail.body.error,
    'Corrupt rtf document "testRTF-truncated.rtf": the file ends inside 2 unclosed groups: it is truncated',
  );
  t.like(detail.body.ingestion, { status: 'failed', attempts: 1 });
  t.true(stepHistory(detail.body).includes('extractDocument:failed:1'));
});
