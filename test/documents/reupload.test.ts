// Content already stored is answered with its document, except when that document failed or
// was cancelled: a new upload of the same bytes read another way (another file name or type),
// or of a cancelled document's bytes, is a new attempt on the same document id and blob, not the
// old outcome. A retry of that upload reaches the same run; a repeat of the failed upload, read
// the same way, gets the failed document as it is.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash, randomUUID } from 'node:crypto';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { uploadDocumentId } from '../../api/routes/documents/ingest.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { startIngestion } from '../../workflow-client/documents.ts';
import { call, tenantOwner, type Account, type ApiHarness } from '../api/harness.ts';
import { held, holdInterceptor, release, type Hold } from './hold.ts';
import {
  filesBelow,
  settled,
  startDocuments,
  startIngestionWorker,
  stepHistory,
  uploadFile,
  type DocumentsHarness,
  type RunningWorker,
} from './harness.ts';

interface Context {
  docs: DocumentsHarness;
  worker: RunningWorker;
  hold: Hold;
}

const test = anyTest as TestFn<Context>;
type Owner = Account & { tenantId: string };

test.before(async (t) => {
  // Step by step (one activity per step), whatever the size: the hold is on extractDocument.
  const docs = await startDocuments({ INGESTION_ONE_STEP_MAX_BYTES: '0' }, { worker: false });
  // Held before the extraction of the documents a test names (holdFor): the other runs pass.
  const hold: Hold = {
    activity: 'extractDocument',
    when: 'before',
    dir: await mkdtemp(path.join(process.env.QUARRY_TEST_RUN_DIR ?? os.tmpdir(), 'hold-')),
  };
  const worker = await startIngestionWorker(docs.settings, [holdFor(hold)]);
  t.context = { docs, worker, hold };
});

test.after.always(async (t) => {
  await t.context.worker?.stop();
  await t.context.docs?.close();
});

/** The documents whose extraction is held (until released; a later run of one passes). */
const heldDocuments = new Set<string>();

/** The hold interceptor (hold.ts), for the runs of the documents in heldDocuments only. */
function holdFor(hold: Hold): ActivityInterceptorsFactory {
  const holding = holdInterceptor(hold);
  return (ctx) => {
    const inbound = holding(ctx).inbound!;
    return {
      inbound: {
        execute(input, next) {
          const step = input.args[0] as { document?: { documentId: string } } | undefined;
          const documentId = step?.document?.documentId;
          return documentId && heldDocuments.has(documentId) ? inbound.execute!(input, next) : next(input);
        },
      },
    };
  };
}

const Count = z.object({ n: z.number() });

/** Rows and original blobs of the tenant. */
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

// Bytes that are a good text file and a broken JSON one: the shape of the docx sent as `.pdf`
// (read by the declared type, which no magic number overrides for text formats).
const notes = () => Buffer.from(`Parental leave is sixteen weeks {${randomUUID()}`);

test.serial('a failed document uploaded again under another name and type is a new attempt on it', async (t) => {
  const { docs } = t.context;
  const owner = await tenantOwner(docs.api, 'reupload');
  const bytes = notes();
  const first = await uploadFile(docs.api, owner, { filename: 'leave.json', bytes, mimeType: 'application/json' });
  t.is(first.status, 201, JSON.stringify(first.body));
  const failed = await settled(docs.api, owner, first.body.id);
  t.like(failed.body, { status: 'failed', filename: 'leave.json', latestVersion: 1, activeVersion: null });

  // The same upload again is read the same way: the failed document as it is, no second run.
  const repeated = await uploadFile(docs.api, owner, { filename: 'leave.json', bytes, mimeType: 'application/json' });
  t.is(repeated.status, 200);
  t.like(repeated.body, { id: first.body.id, status: 'failed' });

  const second = await uploadFile(docs.api, owner, { filename: 'leave.txt', bytes, mimeType: 'text/plain' });
  t.is(second.status, 200, JSON.stringify(second.body));
  t.like(second.body, {
    id: first.body.id,
    status: 'processing',
    error: null,
    filename: 'leave.txt',
    mimeType: 'text/plain',
    title: 'leave.txt',
    latestVersion: 2,
  });
  const done = await settled(docs.api, owner, first.body.id);
  t.like(done.body, { status: 'completed', activeVersion: 2, filename: 'leave.txt', error: null });
  t.like(done.body.ingestion, { status: 'completed' });
  t.true(stepHistory(done.body).includes('extractDocument:completed:1'));

  // A retry of the new attempt's upload reaches the same document and starts nothing more.
  const retried = await uploadFile(docs.api, owner, { filename: 'leave.txt', bytes, mimeType: 'text/plain' });
  t.is(retried.status, 200);
  t.like(retried.body, { id: first.body.id, status: 'completed', latestVersion: 2 });
  t.deepEqual(await footprint(docs.api, docs.blobDir, owner), { documents: 1, jobs: 2, blobs: 1 });
});

test.serial('a cancelled document uploaded again is ingested anew', async (t) => {
  const { docs, hold } = t.context;
  const owner = await tenantOwner(docs.api, 'recancel');
  const bytes = Buffer.from(`The orchard is pruned in February (${randomUUID()}).`);
  const upload = () => uploadFile(docs.api, owner, { filename: 'orchard.txt', bytes, mimeType: 'text/plain' });
  const id = await firstUploadHeld(docs, owner, bytes);
  await held(hold);
  const cancelling = call(docs.api, 'POST', `/v1/documents/${id}/cancel`, {
    token: owner.token,
    tenantId: owner.tenantId,
  });
  // The held attempt is let go once the cancellation is on its way; the run ends cancelled either way.
  await sleep(1000);
  await release(hold);
  const cancelled = await cancelling;
  t.true([200, 202].includes(cancelled.status), JSON.stringify(cancelled.body));
  t.like((await settled(docs.api, owner, id)).body, { status: 'cancelled' });

  const again = await upload();
  t.is(again.status, 200, JSON.stringify(again.body));
  t.like(again.body, { id, status: 'processing', latestVersion: 2 });
  t.like((await settled(docs.api, owner, id)).body, { status: 'completed', activeVersion: 2 });
  t.deepEqual(await footprint(docs.api, docs.blobDir, owner), { documents: 1, jobs: 2, blobs: 1 });
});

test.serial('an attempt that comes after another took the failed document up builds nothing', async (t) => {
  const { docs } = t.context;
  const owner = await tenantOwner(docs.api, 'late-attempt');
  const bytes = notes();
  const first = await uploadFile(docs.api, owner, { filename: 'leave.json', bytes, mimeType: 'application/json' });
  const failed = await settled(docs.api, owner, first.body.id);
  t.is(failed.body.status, 'failed');
  const second = await uploadFile(docs.api, owner, { filename: 'leave.txt', bytes, mimeType: 'text/plain' });
  t.is(second.status, 200);
  const done = await settled(docs.api, owner, first.body.id);
  t.like(done.body, { status: 'completed', activeVersion: 2, latestVersion: 2 });

  // A third upload read the failed row before the second registered, and starts its run only now.
  const reply = await startIngestion(
    docs.api.temporal.client,
    {
      document: {
        tenantId: owner.tenantId,
        documentId: first.body.id,
        ownerUserId: owner.userId,
        visibility: 'tenant',
      },
      version: 2,
      upload: null,
      reupload: {
        title: 'leave.md',
        description: '',
        tags: [],
        source: 'upload',
        filename: 'leave.md',
        mimeType: 'text/markdown',
      },
      requestedBy: owner.userId,
    },
    { taskQueue: docs.settings.INGESTION_TASK_QUEUE!, timeoutMs: 30_000 },
  );
  t.is(reply.duplicateOf, first.body.id);
  const after = await settled(docs.api, owner, first.body.id);
  t.like(after.body, { status: 'completed', activeVersion: 2, latestVersion: 2, filename: 'leave.txt' });
  t.is(after.body.chunkCount, done.body.chunkCount);
});

/** Uploads the bytes with its first extraction held; answers the document id. */
async function firstUploadHeld(docs: DocumentsHarness, owner: Owner, bytes: Buffer): Promise<string> {
  const contentSha256 = createHash('sha256').update(bytes).digest('hex');
  const id = uploadDocumentId(
    { tenantId: owner.tenantId, visibility: 'tenant', ownerUserId: owner.userId, contentSha256 },
    null,
  );
  heldDocuments.add(id);
  const first = await uploadFile(docs.api, owner, { filename: 'orchard.txt', bytes, mimeType: 'text/plain' });
  if (first.status !== 201 || first.body.id !== id) throw new Error(`unexpected answer ${JSON.stringify(first.body)}`);
  return id;
}
