// The upload judges a file by its bytes, not by what the client says: a PDF sent without a
// Content-Type (or as text/plain) is stored, served and ingested as a PDF, and what Quarry
// cannot ingest is refused with 415 `unsupported_format` and the detected type, leaving
// neither a blob nor a row.
import { readFile } from 'node:fs/promises';
import anyTest, { type TestFn } from 'ava';
import { call, tenantOwner } from '../api/harness.ts';
import { readFixture } from '../rag/fixtures.ts';
import { filesBelow, settled, uploadFile, withDocuments, type DocumentsTestContext } from './harness.ts';

const test = withDocuments(anyTest as TestFn<DocumentsTestContext>);

/** A multipart body whose file part has no Content-Type header, which FormData cannot send. */
function untypedUpload(filename: string, bytes: Buffer): { body: Buffer; contentType: string } {
  const boundary = 'quarry-untyped-boundary';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

type Owner = Awaited<ReturnType<typeof tenantOwner>>;

function authorised(owner: Owner): Record<string, string> {
  return { authorization: `Bearer ${owner.token}`, 'x-tenant-id': owner.tenantId };
}

async function download(api: { url: string }, owner: Owner, id: string): Promise<Response> {
  return fetch(`${api.url}/v1/documents/${id}/content`, { headers: authorised(owner) });
}

test('a pdf sent without a content type is stored, served and ingested as a pdf', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const bytes = await readFixture('report.pdf');
  const { body, contentType } = untypedUpload('report', bytes);
  const response = await fetch(`${api.url}/v1/documents`, {
    method: 'POST',
    headers: { ...authorised(owner), 'content-type': contentType },
    body,
  });
  t.is(response.status, 201);
  const created = (await response.json()) as { id: string; mimeType: string };
  t.is(created.mimeType, 'application/pdf');

  const served = await download(api, owner, created.id);
  t.is(served.headers.get('content-type'), 'application/pdf');
  t.deepEqual(Buffer.from(await served.arrayBuffer()), bytes);
  const detail = await settled(api, owner, created.id);
  t.is(detail.body.status, 'completed');
  t.like(detail.body.metadata, { format: 'pdf', pages: 2 });
});

test('a pdf sent as text/plain under a .txt name is stored as application/pdf', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const upload = await uploadFile(api, owner, {
    filename: 'report.pdf.txt',
    bytes: await readFixture('report.pdf'),
    mimeType: 'text/plain',
  });
  t.is(upload.status, 201);
  t.is(upload.body.mimeType, 'application/pdf');
  t.is((await download(api, owner, upload.body.id)).headers.get('content-type'), 'application/pdf');
  t.like((await settled(api, owner, upload.body.id)).body, { status: 'completed', metadata: { format: 'pdf' } });
});

test('a text file keeps a declared media type that names its format, and gets its own otherwise', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const bytes = await readFixture('guide.md');
  const declared = await uploadFile(api, owner, { filename: 'guide.md', bytes, mimeType: 'text/x-markdown' });
  t.is(declared.status, 201);
  t.is(declared.body.mimeType, 'text/x-markdown');
  const octets = await uploadFile(api, owner, {
    filename: 'notes.txt',
    bytes: await readFixture('notes.txt'),
    mimeType: 'application/octet-stream',
  });
  t.is(octets.status, 201);
  t.is(octets.body.mimeType, 'text/plain');
  await Promise.all([settled(api, owner, declared.body.id), settled(api, owner, octets.body.id)]);
});

test('an rtf is stored and ingested as rtf, under its own name and under a .txt one', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const letter = Buffer.from(
    "{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Dear reader,\\par Caf\\'e9 at noon.\\par}",
  );
  const named = await uploadFile(api, owner, { filename: 'letter.rtf', bytes: letter, mimeType: 'text/rtf' });
  t.is(named.status, 201);
  t.is(named.body.mimeType, 'text/rtf');
  // Other bytes, or the upload would be the same document again.
  const disguised = await uploadFile(api, owner, {
    filename: 'letter.txt',
    bytes: Buffer.concat([letter, Buffer.from(' ')]),
    mimeType: 'text/plain',
  });
  t.is(disguised.status, 201);
  t.is(disguised.body.mimeType, 'application/rtf');
  for (const upload of [named, disguised]) {
    const detail = await settled(api, owner, upload.body.id);
    t.like(detail.body, { status: 'completed', metadata: { format: 'rtf' } });
  }
});

interface Refused {
  readonly title: string;
  readonly filename: string;
  readonly mimeType: string;
  readonly bytes: () => Promise<Buffer>;
  readonly detectedType: string;
}

const refused: readonly Refused[] = [
  {
    title: 'a png named .txt',
    filename: 'photo.txt',
    mimeType: 'text/plain',
    bytes: () => readFixture('image.png'),
    detectedType: 'image/png',
  },
  {
    title: 'an elf executable',
    filename: 'tool',
    mimeType: 'application/octet-stream',
    // The Node binary running this test: a real executable, of which the head is enough.
    bytes: async () => (await readFile(process.execPath)).subarray(0, 200_000),
    detectedType: 'application/x-elf',
  },
  {
    title: 'a zip named .txt',
    filename: 'archive.txt',
    mimeType: 'text/plain',
    bytes: () => readFixture('corrupt.docx'),
    detectedType: 'application/zip',
  },
];

// Serial, so that no other upload is being staged while the blob directory is compared.
for (const file of refused) {
  test.serial(`${file.title} is refused with 415 and its detected type, and nothing is stored`, async (t) => {
    const { api, blobDir } = t.context.docs;
    const owner = await tenantOwner(api);
    const before = await filesBelow(blobDir);
    const reply = await uploadFile(api, owner, {
      filename: file.filename,
      mimeType: file.mimeType,
      bytes: await file.bytes(),
    });
    t.is(reply.status, 415);
    t.is(reply.body.error.code, 'unsupported_format');
    t.deepEqual(reply.body.error.details, {
      filename: file.filename,
      declaredType: file.mimeType,
      detectedType: file.detectedType,
    });
    t.regex(reply.body.error.message, new RegExp(`its bytes are ${file.detectedType.replace('/', '\\/')}`));
    t.deepEqual(await filesBelow(blobDir), before);
    const listed = await call(api, 'GET', '/v1/documents', { token: owner.token, tenantId: owner.tenantId });
    t.deepEqual(listed.body.documents, []);
  });
}
