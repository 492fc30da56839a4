// The orphan-blob sweep: removes document blob folders that no document row owns and that no
// ingestion run is still working on (an upload whose registration failed, a process that died
// between committing the blob and writing the row), and staged bytes a dead process left. Only
// what has been left alone for the grace period is touched, so an upload in flight is safe.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { unknownDocumentIds } from '../../db/queries/documents.ts';
import { withTenant } from '../../db/with-tenant.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { DOCUMENTS_ROOT, documentPrefix } from '../../storage/document-keys.ts';
import { workflowIdFor, type JobRef } from '../../contract/jobs.ts';

export interface SweepInput {
  readonly job: JobRef;
}

export interface SweepResult {
  /** Document blob folders removed. */
  readonly documents: number;
  /** Their blobs, and their bytes. */
  readonly blobs: number;
  readonly bytes: number;
  /** Staged uploads abandoned by a process that died. */
  readonly staged: number;
}

interface Folder {
  readonly tenantId: string;
  readonly documentId: string;
  blobs: number;
  bytes: number;
  newest: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Ids asked of PostgreSQL at once. */
const LOOKUP_BATCH = 500;

/** The document folders below documents/, by tenant, with their newest blob's time. */
async function documentFolders(blobs: BlobStore): Promise<Map<string, Folder[]>> {
  const folders = new Map<string, Folder>();
  for await (const entry of blobs.list(DOCUMENTS_ROOT)) {
    const [, tenantId, documentId] = entry.key.split('/');
    if (!tenantId || !documentId || !UUID.test(tenantId) || !UUID.test(documentId)) continue;
    const key = `${tenantId}/${documentId}`;
    const folder = folders.get(key) ?? { tenantId, documentId, blobs: 0, bytes: 0, newest: 0 };
    folder.blobs += 1;
    folder.bytes += entry.bytes;
    folder.newest = Math.max(folder.newest, entry.modifiedAt.getTime());
    folders.set(key, folder);
  }
  const byTenant = new Map<string, Folder[]>();
  for (const folder of folders.values())
    byTenant.set(folder.tenantId, [...(byTenant.get(folder.tenantId) ?? []), folder]);
  return byTenant;
}

/** Whether an ingestion run of the document is still open (it may yet write the row). */
async function ingestionOpen(temporal: Client, folder: Folder): Promise<boolean> {
  try {
    const description = await temporal.workflow
      .getHandle(workflowIdFor('ingestion', folder.tenantId, folder.documentId))
      .describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

export function createOrphanBlobSweep(deps: {
  pool: DatabasePool;
  temporal: Client;
  blobs: BlobStore;
  graceMinutes: number;
}) {
  const { pool, temporal, blobs } = deps;
  return async function sweepOrphanBlobs(_input: SweepInput): Promise<SweepResult> {
    const cutoff = Date.now() - deps.graceMinutes * 60_000;
    const result = { documents: 0, blobs: 0, bytes: 0, staged: await blobs.sweepStaged(new Date(cutoff)) };
    for (const [tenantId, folders] of await documentFolders(blobs)) {
      const settled = folders.filter((folder) => folder.newest < cutoff);
      for (let start = 0; start < settled.length; start += LOOKUP_BATCH) {
        const batch = settled.slice(start, start + LOOKUP_BATCH);
        const unknown = new Set(
          await withTenant(pool, { tenantId }, (tx) =>
            unknownDocumentIds(
              tx,
              batch.map((folder) => folder.documentId),
            ),
          ),
        );
        for (const folder of batch) {
          if (!unknown.has(folder.documentId) || (await ingestionOpen(temporal, folder))) continue;
          await blobs.deletePrefix(documentPrefix(folder.tenantId, folder.documentId));
          result.documents += 1;
          result.blobs += folder.blobs;
          result.bytes += folder.bytes;
        }
      }
    }
    return result;
  };
}
