import { randomBytes } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { ingestionWorkflowId } from '../../workflow-client/ingestion-handle.ts';
import { JobKindKey, JobStatusKey, TenantIdKey } from '../../contract/search-attributes.ts';
import { ingestionProgressQuery } from '../../workflows/shared.ts';
import { call, tenantOwner } from '../api/harness.ts';
import { failingFixtures, formatFixtures, readFixture } from '../rag/fixtures.ts';
import {
  BUILD_STEPS,
  buildHistory,
  chunkStats,
  filesBelow,
  isOneStep,
  postText,
  settled,
  stepHistory,
  uploadFile,
  withDocuments,
  type DocumentsTestContext,
} from './harness.ts';

const UPLOAD_LIMIT = 64 * 1024;
// Originals up to 2 KiB are built in one activity: the format fixtures take both paths.
const test = withDocuments(anyTest as TestFn<DocumentsTestContext>, {
  UPLOAD_LIMIT_BYTES: String(UPLOAD_LIMIT),
  INGESTION_ONE_STEP_MAX_BYTES: '2048',
});

/** A completed run's step history; a small original's steps run inside one activity. */
const happySteps = (oneStep: boolean) => [
  'registerDocument:started:1',
  'registerDocument:completed:1',
  ...buildHistory(oneStep, BUILD_STEPS),
  'job:completed:1',
];

test('every supported format is ingested to completed, with embedded chunks holding its text', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const originals = await Promise.all(formatFixtures.map((fixture) => readFixture(fixture.filename)));
  const uploads = await Promise.all(
    formatFixtures.map((fixture, index) =>
      uploadFile(api, owner, {
        filename: fixture.filename,
        mimeType: fixture.mimeType,
        bytes: originals[index]!,
        fields: { tags: `fixture, ${fixture.format}`, description: `The ${fixture.format} fixture` },
      }),
    ),
  );
  const paths = new Set<boolean>();
  for (const [index, upload] of uploads.entries()) {
    const fixture = formatFixtures[index]!;
    const oneStep = isOneStep(api, originals[index]!.length);
    paths.add(oneStep);
    t.is(upload.status, 201, fixture.filename);
    t.like(upload.body, {
      title: fixture.filename,
      filename: fixture.filename,
      status: 'processing',
      source: 'upload',
      visibility: 'tenant',
      tags: ['fixture', fixture.format],
      ownerUserId: owner.userId,
      activeVersion: null,
    });
    t.false('blobKey' in upload.body);

    const detail = await settled(api, owner, upload.body.id);
    t.like(detail.body, { status: 'completed', error: null, activeVersion: 1, latestVersion: 1, progress: null });
    t.is(detail.body.metadata.format, fixture.format);
    t.true(detail.body.chunkCount > 0);
    t.deepEqual(
      stepHistory(detail.body).filter((step) => !step.startsWith('job:started')),
      happySteps(oneStep),
      fixture.filename,
    );
    t.like(detail.body.ingestion, { kind: 'ingestion', subject: upload.body.id, status: 'completed' });
    t.deepEqual(await chunkStats(api, owner, upload.body.id), [
      { version: 1, chunks: detail.body.chunkCount, embedded: detail.body.chunkCount, duplicates: 0 },
    ]);
    const phrase = await withTenant(api.owner, owner, (tx) =>
      tx.oneFirst(sql.type(z.object({ found: z.boolean() }))`
        SELECT bool_or(position(${fixture.phrase} IN content) > 0) AS found FROM chunks
        WHERE document_id = ${upload.body.id}`),
    );
    t.true(phrase, `${fixture.filename} has a chunk holding "${fixture.phrase}"`);
  }
  // The fixtures span both paths: small originals built in one activity, larger ones step by step.
  t.deepEqual([...paths].sort(), [false, true]);

  const models = await withTenant(api.owner, owner, (tx) =>
    tx.any(sql.type(z.object({ model: z.string(), dimensions: z.number() }))`
      SELECT model, dimensions FROM embedding_models WHERE tenant_id = ${owner.tenantId}`),
  );
  t.deepEqual(models, [{ model: 'quarry-hash-384', dimensions: 384 }]);
  const perChunk = await withTenant(api.owner, owner, (tx) =>
    tx.any(sql.type(z.object({ model: z.string(), dims: z.number() }))`
      SELECT DISTINCT embedding_model AS model, embedding_dims AS dims FROM chunks WHERE tenant_id = ${owner.tenantId}`),
  );
  t.deepEqual(perChunk, [{ model: 'quarry-hash-384', dims: 384 }]);
});

test('corrupt and empty files end failed with their reason after a single attempt, unsupported ones are refused', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const reasons: Record<string, RegExp> = {
    corrupt_document: /^Corrupt (pdf|docx|rtf) document/,
    empty_document: /contains no extractable text$/,
  };
  for (const fixture of failingFixtures) {
    const bytes = await readFixture(fixture.filename);
    const upload = await uploadFile(api, owner, { filename: fixture.filename, bytes });
    if (fixture.code === 'unsupported_format') {
      // Judged by its bytes at upload (test/documents/upload-detection.test.ts).
      t.is(upload.status, 415, fixture.filename);
      t.is(upload.body.error.code, 'unsupported_format', fixture.filename);
      continue;
    }
    t.is(upload.status, 201, fixture.filename);
    const detail = await settled(api, owner, upload.body.id);
    t.is(detail.body.status, 'failed', fixture.filename);
    t.regex(detail.body.error, reasons[fixture.code]!, fixture.filename);
    t.like(detail.body.ingestion, { status: 'failed', error: detail.body.error, attempts: 1 });
    t.deepEqual(stepHistory(detail.body).slice(1), [
      'registerDocument:started:1',
      'registerDocument:completed:1',
      ...buildHistory(
        isOneStep(api, bytes.length),
        ['extractDocument:started:1', 'extractDocument:failed:1'],
        'failed',
      ),
      'settleDocument:started:1',
      'settleDocument:completed:1',
      'job:failed:1',
    ]);
    t.deepEqual(await chunkStats(api, owner, upload.body.id), []);
  }
});

test('a JSON text document is ingested, and identical content in the same scope returns the same document', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const text = `Quarterly notes ${randomBytes(8).toString('hex')}: the river ferry now runs every forty minutes.`;
  const first = await postText(api, owner, { title: 'Ferry notes', text, tags: ['ops'] });
  t.is(first.status, 201);
  t.like(first.body, { title: 'Ferry notes', source: 'text', filename: null, status: 'processing', tags: ['ops'] });
  const done = await settled(api, owner, first.body.id);
  t.is(done.body.status, 'completed');

  const again = await postText(api, owner, { title: 'Another title', text });
  t.is(again.status, 200);
  t.like(again.body, { id: first.body.id, title: 'Ferry notes', status: 'completed' });

  // The same bytes as a file are the same content too.
  const asFile = await uploadFile(api, owner, { filename: 'ferry.txt', bytes: Buffer.from(text, 'utf8') });
  t.is(asFile.status, 200);
  t.is(asFile.body.id, first.body.id);

  // A private copy lives in another scope: the uploader's own documents.
  const privateCopy = await postText(api, owner, { title: 'Mine', text, visibility: 'private' });
  t.is(privateCopy.status, 201);
  t.not(privateCopy.body.id, first.body.id);
  const privateAgain = await postText(api, owner, { title: 'Mine again', text, visibility: 'private' });
  t.is(privateAgain.status, 200);
  t.is(privateAgain.body.id, privateCopy.body.id);
  await settled(api, owner, privateCopy.body.id);

  // Identical concurrent uploads end as one document.
  const racer = `Race ${randomBytes(8).toString('hex')}`;
  const racing = await Promise.all([1, 2, 3].map(() => postText(api, owner, { title: 'Race', text: racer })));
  t.deepEqual(new Set(racing.map((reply) => reply.body.id)).size, 1);
  t.deepEqual(racing.map((reply) => reply.status).sort(), [200, 200, 201]);
});

// Serial (run before the others), so that no other upload of this file is being staged meanwhile.
test.serial('an upload over the limit is answered 413, and neither a blob nor a row is left', async (t) => {
  const { api, blobDir } = t.context.docs;
  const owner = await tenantOwner(api);
  const before = await filesBelow(blobDir);
  const reply = await uploadFile(api, owner, {
    filename: 'huge.txt',
    bytes: Buffer.alloc(UPLOAD_LIMIT + 10_000, 'a'),
    fields: { title: 'Too big' },
  });
  t.is(reply.status, 413);
  t.is(reply.body.error.code, 'payload_too_large');
  t.deepEqual(await filesBelow(blobDir), before);
  const listed = await call(api, 'GET', '/v1/documents', { token: owner.token, tenantId: owner.tenantId });
  t.deepEqual(listed.body.documents, []);

  const exact = await uploadFile(api, owner, { filename: 'edge.txt', bytes: Buffer.alloc(UPLOAD_LIMIT, 'b') });
  t.is(exact.status, 201);
  await settled(api, owner, exact.body.id);
});

test('bad uploads are refused with the field at fault', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const noFile = await fetch(`${api.url}/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.token}`, 'x-tenant-id': owner.tenantId },
    body: (() => {
      const form = new FormData();
      form.append('title', 'nothing');
      return form;
    })(),
  });
  t.is(noFile.status, 400);
  t.is(
    ((await noFile.json()) as { error: { details: { issues: { path: string }[] } } }).error.details.issues[0]!.path,
    'body.file',
  );

  const badVisibility = await uploadFile(api, owner, {
    filename: 'a.txt',
    bytes: Buffer.from('hello'),
    fields: { visibility: 'public' },
  });
  t.is(badVisibility.status, 400);
  t.is(badVisibility.body.error.details.issues[0].path, 'body.visibility');

  const noText = await postText(api, owner, { title: 'Empty' });
  t.is(noText.status, 400);
  t.is(noText.body.error.details.issues[0].path, 'body.text');
});

test('the run carries search attributes and answers the progress query', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const reply = await postText(api, owner, { title: 'Attrs', text: `Attributes ${randomBytes(6).toString('hex')}` });
  const detail = await settled(api, owner, reply.body.id);
  const handle = api.temporal.client.workflow.getHandle(
    ingestionWorkflowId({ tenantId: owner.tenantId, documentId: reply.body.id }),
  );
  const description = await handle.describe();
  t.is(description.typedSearchAttributes.get(TenantIdKey), owner.tenantId);
  t.is(description.typedSearchAttributes.get(JobKindKey), 'ingestion');
  t.is(description.typedSearchAttributes.get(JobStatusKey), 'completed');
  t.deepEqual(await handle.query(ingestionProgressQuery), {
    step: 'done',
    chunksEmbedded: detail.body.chunkCount,
    chunksTotal: detail.body.chunkCount,
  });
  t.like(detail.body.ingestion.progress, { chunksEmbedded: 1, chunksTotal: 1 });
});
