// Hostile uploads through the real ingestion workflow: each ends `failed` with the reason of the
// bound it hit, after one attempt, instead of staying `processing` while Temporal retries; and
// extracted text holding NUL characters is stored without them.
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { tenantOwner } from '../api/harness.ts';
import { DOCX_MIME_TYPE, nestedJson, nestedMultipartMail, zipBombDocx } from '../rag/hostile.ts';
import {
  buildHistory,
  chunkStats,
  isOneStep,
  settled,
  stepHistory,
  uploadFile,
  withDocuments,
  type DocumentsTestContext,
} from './harness.ts';

// A smaller archive bound and chunk bound than the defaults, so that the bombs stay cheap.
const test = withDocuments(anyTest as TestFn<DocumentsTestContext>, {
  EXTRACT_MAX_ARCHIVE_BYTES: String(16 * 1024 * 1024),
  MAX_CHUNKS_PER_DOCUMENT: '5',
  CHUNK_SIZE: '200',
  CHUNK_OVERLAP: '0',
});

/** The history of a run that failed at `step`; a small original's steps run inside one activity. */
const failedAt = (step: string, oneStep: boolean) => [
  'registerDocument:started:1',
  'registerDocument:completed:1',
  ...buildHistory(
    oneStep,
    [
      ...(step === 'chunkDocument' ? ['extractDocument:started:1', 'extractDocument:completed:1'] : []),
      `${step}:started:1`,
      `${step}:failed:1`,
    ],
    'failed',
  ),
  'settleDocument:started:1',
  'settleDocument:completed:1',
  'job:failed:1',
];

const hostileUploads = [
  {
    filename: 'deep.json',
    bytes: nestedJson(100_000),
    mimeType: 'application/json',
    step: 'extractDocument',
    error: 'The json document "deep.json" is too large to process: it nests deeper than 512 levels',
  },
  {
    filename: 'bomb.docx',
    bytes: zipBombDocx(40),
    mimeType: DOCX_MIME_TYPE,
    step: 'extractDocument',
    error: 'The docx document "bomb.docx" is too large to process: it inflates to more than 16 MiB',
  },
  {
    filename: 'nested.eml',
    bytes: nestedMultipartMail(2000),
    mimeType: 'message/rfc822',
    step: 'extractDocument',
    error:
      'The eml document "nested.eml" is too large to process: max allowed child nodes exceeded ' +
      '(a mail may have 1000 MIME parts, 1 MiB of headers each)',
  },
  {
    filename: 'long.txt',
    bytes: Buffer.from(Array.from({ length: 12 }, (_, index) => `Paragraph ${index} `.repeat(12)).join('\n\n')),
    mimeType: 'text/plain',
    step: 'chunkDocument',
    error: 'The document is too large to process: it splits into more than 5 chunks',
  },
];

for (const upload of hostileUploads) {
  test(`${upload.filename} ends failed with its reason after a single attempt`, async (t) => {
    const { api } = t.context.docs;
    const owner = await tenantOwner(api);
    const reply = await uploadFile(api, owner, upload);
    t.is(reply.status, 201);
    const detail = await settled(api, owner, reply.body.id);
    t.like(detail.body, { status: 'failed', error: upload.error, activeVersion: null });
    t.like(detail.body.ingestion, { status: 'failed', error: upload.error, attempts: 1 });
    t.deepEqual(stepHistory(detail.body).slice(1), failedAt(upload.step, isOneStep(api, upload.bytes.length)));
    t.deepEqual(await chunkStats(api, owner, reply.body.id), []);
  });
}

test('text and metadata holding NUL characters are stored without them', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const mail = Buffer.from(
    'Subject: =?utf-8?Q?Bud=00get?=\r\nFrom: ada@quarry.test\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
      'The analytical=00 engine needs brass=00 gears.\r\n',
  );
  const json = Buffer.from(JSON.stringify({ 'not\u0000e': 'NUL\u0000 characters\u0000 inside' }));
  for (const upload of [
    {
      filename: 'nul.eml',
      bytes: mail,
      mimeType: 'message/rfc822',
      phrase: 'The analytical engine needs brass gears.',
    },
    { filename: 'nul.json', bytes: json, mimeType: 'application/json', phrase: 'note: NUL characters inside' },
  ]) {
    const reply = await uploadFile(api, owner, upload);
    t.is(reply.status, 201);
    const detail = await settled(api, owner, reply.body.id);
    t.like(detail.body, { status: 'completed', error: null }, upload.filename);
    const contents = await withTenant(api.owner, owner, (tx) =>
      tx.anyFirst(sql.type(z.object({ content: z.string() }))`
        SELECT content FROM chunks WHERE document_id = ${reply.body.id} ORDER BY ordinal`),
    );
    t.true(contents.join('\n').includes(upload.phrase), upload.filename);
    if (upload.filename === 'nul.eml') {
      t.like(detail.body.metadata, { format: 'eml', title: 'Budget', from: 'ada@quarry.test' });
    }
  }
});
