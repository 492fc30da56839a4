// An upload's answer always names its document, and a retried upload ends as one document, one
// ingestion job and one blob: a slow registration answers 202 with the id and a Location to
// poll; the same content sent again (after a 202, a 503 or a dropped connection) reaches the
// same document; an Idempotency-Key names an upload whatever its bytes, and refuses other ones.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { ingestionWorkflowId } from '../../workflow-client/ingestion-handle.ts';
import { call, tenantOwner, type Account, type ApiHarness } from '../api/harness.ts';
import { sendRaw } from '../helpers/raw-http.ts';
import {
  filesBelow,
  settled,
  startDocuments,
  startIngestionWorker,
  uploadFile,
  type DocumentsHarness,
  type RunningWorker,
} from './harness.ts';

interface Context {
  docs: DocumentsHarness;
  /** The worker a test starts (ava gives each test a copy of the context, not this object). */
  late: { worker: RunningWorker | null };
}

const test = anyTest as TestFn<Context>;
type Owner = Account & { tenantId: string };

test.before(async (t) => {
  // No worker at first: registrations wait, so uploads answer 202.
  const docs = await startDocuments({ UPLOAD_REGISTER_WAIT_SECONDS: '2' }, { worker: false });
  t.context = { docs, late: { worker: null } };
});

test.after.always(async (t) => {
  await t.context.late?.worker?.stop();
  await t.context.docs?.close();
});

const Count = z.object({ n: z.number() });

/** Rows and blobs of one tenant: documents, ingestion jobs, original blobs. */
async function footprint(api: ApiHarness, blobDir: string, owner: Owner) {
  const counts = await withTenant(api.owner, { tenantId: owner.tenantId, userId: owner.userId }, async (tx) => ({
    documents: await tx.oneFirst(sql.type(Count)`SELECT count(*)::int4 AS n FROM documents`),
    jobs: await tx.oneFirst(sql.type(Count)`SELECT count(*)::int4 AS n FROM jobs WHERE kind = 'ingestion'`),
  }));
  const originals = (await filesBelow(path.join(blobDir, 'documents', owner.tenantId))).filter((file) =>
    path.basename(file).startsWith('original-'),
  );
  return { ...counts, blobs: originals.length };
}

const text = (label: string) => Buffer.from(`${label}: parental leave is sixteen weeks (${randomUUID()}).`);

test.serial(
  'a slow registration answers 202 with the id and a Location, and a retry reaches the same document',
  async (t) => {
    const { docs } = t.context;
    const owner = await tenantOwner(docs.api, 'accepted');
    const bytes = text('accepted');
    const first = await uploadFile(docs.api, owner, { filename: 'leave.txt', bytes, mimeType: 'text/plain' });
    t.is(first.status, 202, JSON.stringify(first.body));
    t.is(first.body.status, 'queued');
    t.is(first.headers.get('location'), `/v1/documents/${first.body.id}`);
    t.truthy(first.headers.get('retry-after'));

    const polled = await call(docs.api, 'GET', first.headers.get('location')!, {
      token: owner.token,
      tenantId: owner.tenantId,
    });
    t.is(polled.status, 202);
    t.deepEqual(polled.body, { id: first.body.id, status: 'queued' });

    const retried = await uploadFile(docs.api, owner, { filename: 'leave.txt', bytes, mimeType: 'text/plain' });
    t.is(retried.status, 202);
    t.is(retried.body.id, first.body.id);

    t.context.late.worker = await startIngestionWorker(docs.settings);
    const done = await settled(docs.api, owner, first.body.id);
    t.is(done.status, 200);
    t.is(done.body.status, 'completed');
    const again = await uploadFile(docs.api, owner, { filename: 'leave.txt', bytes, mimeType: 'text/plain' });
    t.is(again.status, 200);
    t.is(again.body.id, first.body.id);
    t.deepEqual(await footprint(docs.api, docs.blobDir, owner), { documents: 1, jobs: 1, blobs: 1 });
  },
);

test.serial(
  'an upload whose connection dropped before the answer, retried, is one document, job and blob',
  async (t) => {
    const { docs } = t.context;
    const owner = await tenantOwner(docs.api, 'dropped');
    const bytes = text('dropped');
    const boundary = 'retry-boundary';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="leave.txt"\r\n` +
          'Content-Type: text/plain\r\n\r\n',
      ),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    // The whole request is sent, then the client hangs up before any answer.
    await sendRaw(docs.api.url, {
      method: 'POST',
      path: '/v1/documents',
      headers: {
        authorization: `Bearer ${owner.token}`,
        'x-tenant-id': owner.tenantId,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(body.length),
      },
      body,
      then: 'destroy',
    });
    const retried = await uploadFile(docs.api, owner, { filename: 'leave.txt', bytes, mimeType: 'text/plain' });
    t.true([200, 201].includes(retried.status), JSON.stringify(retried.body));
    const done = await settled(docs.api, owner, retried.body.id);
    t.is(done.body.status, 'completed');
    // The dropped request's run may still be finishing: wait for it by the same id.
    await docs.api.temporal.client.workflow
      .getHandle(ingestionWorkflowId({ tenantId: owner.tenantId, documentId: retried.body.id }))
      .result()
      .catch(() => undefined);
    t.deepEqual(await footprint(docs.api, docs.blobDir, owner), { documents: 1, jobs: 1, blobs: 1 });
  },
);

test.serial('an Idempotency-Key names an upload: the same key again returns it, with other bytes is 409', async (t) => {
  const { docs } = t.context;
  const owner = await tenantOwner(docs.api, 'keyed');
  const key = `upload-${randomUUID()}`;
  const send = (bytes: Buffer, idempotencyKey = key) =>
    fetch(`${docs.api.url}/v1/documents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${owner.token}`,
        'x-tenant-id': owner.tenantId,
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
      },
      body: JSON.stringify({ title: 'Leave', text: bytes.toString() }),
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as { id: string; error: { code: string } },
    }));
  const bytes = text('keyed');
  const first = await send(bytes);
  t.is(first.status, 201, JSON.stringify(first.body));
  const again = await send(bytes);
  t.is(again.status, 200);
  t.is(again.body.id, first.body.id);
  const other = await send(text('other bytes'));
  t.is(other.status, 409);
  t.is(other.body.error.code, 'idempotency_key_reused');
  const bad = await send(bytes, 'with space');
  t.is(bad.status, 400);
  t.is(bad.body.error.code, 'invalid_idempotency_key');
  await settled(docs.api, owner, first.body.id);
  t.deepEqual(await footprint(docs.api, docs.blobDir, owner), { documents: 1, jobs: 1, blobs: 1 });
});
