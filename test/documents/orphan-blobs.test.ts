// An upload that does not become a document leaves nothing: a run whose registration fails
// discards its blobs, and the maintenance sweep removes any document blob folder that no row
// owns and no open run still needs, once left alone for the grace period, counting what it
// removed. Blobs of real documents, of runs still open and of young uploads are kept.
import { randomUUID } from 'node:crypto';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { LocalBlobStore } from '../../storage/local-blob-store.ts';
import { documentPrefix, originalKey } from '../../storage/document-keys.ts';
import { startIngestion } from '../../workflow-client/documents.ts';
import { ingestionWorkflowId } from '../../workflow-client/ingestion-handle.ts';
import { startMaintenanceJob } from '../../workflow-client/maintenance.ts';
import { createPlatformWorker } from '../../worker.ts';
import type { MaintenanceResult } from '../../workflows/shared.ts';
import { tenantOwner } from '../api/harness.ts';
import { uniqueTaskQueue } from '../helpers/stack.ts';
import { startTestWorker, type TestWorker } from '../helpers/worker.ts';
import { filesBelow, postText, settled, startDocuments, type DocumentsHarness } from './harness.ts';

interface Context {
  docs: DocumentsHarness;
  platform: TestWorker;
  platformQueue: string;
}

const test = anyTest as TestFn<Context>;
const HOUR = 60 * 60 * 1000;

test.before(async (t) => {
  const docs = await startDocuments({ ORPHAN_BLOB_GRACE_MINUTES: '60' });
  const platformQueue = uniqueTaskQueue('platform');
  const platform = await startTestWorker(createPlatformWorker, { settings: docs.settings, taskQueue: platformQueue });
  t.context = { docs, platform, platformQueue };
});

test.after.always(async (t) => {
  await t.context.platform?.stop();
  await t.context.docs?.close();
});

const Count = z.object({ n: z.number() });

async function rowsOf(t: { context: Context }, tenantId: string, userId: string) {
  return withTenant(t.context.docs.api.owner, { tenantId, userId }, async (tx) => ({
    documents: await tx.oneFirst(sql.type(Count)`SELECT count(*)::int4 AS n FROM documents`),
  }));
}

/** Writes a blob folder for a document id as an upload would, dated `ageMs` ago. */
async function plantFolder(blobDir: string, tenantId: string, documentId: string, ageMs: number): Promise<string> {
  const store = new LocalBlobStore(blobDir);
  const key = originalKey(tenantId, documentId, 'a'.repeat(64));
  await store.put(key, Buffer.from('orphaned bytes'));
  const file = path.join(blobDir, ...key.split('/'));
  const when = new Date(Date.now() - ageMs);
  await utimes(file, when, when);
  return path.join(blobDir, ...documentPrefix(tenantId, documentId).split('/'));
}

test.serial('a run whose registration fails removes its upload and leaves no document', async (t) => {
  const { docs } = t.context;
  const owner = await tenantOwner(docs.api, 'register-fails');
  const documentId = randomUUID();
  const store = new LocalBlobStore(docs.blobDir);
  const blobKey = originalKey(owner.tenantId, documentId, 'b'.repeat(64));
  await store.put(blobKey, Buffer.from('some bytes'));
  // A row the database refuses (its title breaks the documents.title CHECK): the API validates
  // titles first, so this reaches the workflow only from a caller that skipped it.
  const upload = {
    id: documentId,
    tenantId: owner.tenantId,
    ownerUserId: owner.userId,
    visibility: 'tenant' as const,
    title: 'x'.repeat(600),
    description: '',
    tags: [],
    source: 'upload' as const,
    filename: 'x.txt',
    mimeType: 'text/plain',
    byteSize: 10,
    contentSha256: 'b'.repeat(64),
    blobKey,
  };
  const document = { tenantId: owner.tenantId, documentId, ownerUserId: owner.userId, visibility: 'tenant' as const };
  await t.throwsAsync(
    startIngestion(
      docs.api.temporal.client,
      { document, version: 1, upload, requestedBy: owner.userId },
      { taskQueue: docs.settings.INGESTION_TASK_QUEUE!, timeoutMs: 30_000 },
    ),
  );
  await docs.api.temporal.client.workflow
    .getHandle(ingestionWorkflowId(document))
    .result()
    .catch(() => undefined);
  t.deepEqual(await filesBelow(path.join(docs.blobDir, 'documents', owner.tenantId)), []);
  t.deepEqual(await rowsOf(t, owner.tenantId, owner.userId), { documents: 0 });
});

test.serial('the maintenance sweep removes orphan blobs past the grace period and keeps the rest', async (t) => {
  const { docs, platformQueue } = t.context;
  const owner = await tenantOwner(docs.api, 'sweep');
  const blobDir = docs.blobDir;

  // A real document, private to its owner (the sweep must see it all the same), made old.
  const kept = await postText(docs.api, owner, {
    title: 'Kept',
    text: 'A document that exists.',
    visibility: 'private',
  });
  t.is(kept.status, 201);
  await settled(docs.api, owner, kept.body.id);
  const keptFiles = await filesBelow(path.join(blobDir, ...documentPrefix(owner.tenantId, kept.body.id).split('/')));
  t.true(keptFiles.length > 0);
  const old = new Date(Date.now() - 3 * HOUR);
  for (const file of keptFiles) await utimes(file, old, old);

  // Orphans: old ones (removed), a young one (kept), one of a tenant that does not exist (removed).
  const oldOrphan = await plantFolder(blobDir, owner.tenantId, randomUUID(), 2 * HOUR);
  const youngOrphan = await plantFolder(blobDir, owner.tenantId, randomUUID(), 5 * 60 * 1000);
  const strangerOrphan = await plantFolder(blobDir, randomUUID(), randomUUID(), 2 * HOUR);

  // An old blob whose ingestion run is still open (no worker polls its queue): kept.
  const pendingId = randomUUID();
  const pending = await plantFolder(blobDir, owner.tenantId, pendingId, 2 * HOUR);
  const pendingDocument = {
    tenantId: owner.tenantId,
    documentId: pendingId,
    ownerUserId: owner.userId,
    visibility: 'tenant' as const,
  };
  await docs.api.temporal.client.workflow.start('ingestionWorkflow', {
    workflowId: ingestionWorkflowId(pendingDocument),
    taskQueue: uniqueTaskQueue('nobody-polls'),
    args: [{ document: pendingDocument, version: 1, upload: null, requestedBy: owner.userId }],
  });

  // Staged bytes a dead process left: an old file is removed, a fresh one kept.
  const staging = path.join(blobDir, '.staging');
  await mkdir(staging, { recursive: true });
  const oldStaged = path.join(staging, randomUUID());
  const freshStaged = path.join(staging, randomUUID());
  await writeFile(oldStaged, 'partial');
  await writeFile(freshStaged, 'partial');
  await utimes(oldStaged, old, old);

  const { workflowId, runId } = await startMaintenanceJob(
    docs.api.temporal.client,
    { requestedBy: owner.userId },
    { taskQueue: platformQueue, subject: `sweep-${randomUUID()}` },
  );
  const result = (await docs.api.temporal.client.workflow.getHandle(workflowId, runId).result()) as MaintenanceResult;
  await docs.api.temporal.client.workflow.getHandle(ingestionWorkflowId(pendingDocument)).terminate('test over');

  t.deepEqual(result.orphanBlobs, { documents: 2, blobs: 2, bytes: 2 * 'orphaned bytes'.length, staged: 1 });
  t.deepEqual(await filesBelow(oldOrphan), []);
  t.deepEqual(await filesBelow(strangerOrphan), []);
  t.is((await filesBelow(youngOrphan)).length, 1);
  t.is((await filesBelow(pending)).length, 1);
  t.deepEqual(
    (await filesBelow(path.join(blobDir, ...documentPrefix(owner.tenantId, kept.body.id).split('/')))).sort(),
    keptFiles.sort(),
  );
  t.deepEqual(await filesBelow(staging), [freshStaged]);
});
