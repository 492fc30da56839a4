// The ingestion pipeline with no orchestration: the same activity functions the worker runs
// (register, then buildDocument for an original of up to INGESTION_ONE_STEP_MAX_BYTES, else
// extract → chunk → embed in batches → activate), called one after the other in this process
// with an activity context of their own (@temporalio/testing's MockActivityEnvironment), against
// the same PostgreSQL and blob store. No Temporal server, no HTTP, no job rows (a one-step build's
// step events find no job to join): what a document costs when nothing but its own steps run. The original is
// written to the blob store first, as the API does before it starts a run.
import { createHash, randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import type { Config } from '../../config.ts';
import { createDocumentActivities, type DocumentActivityDeps } from '../../activities/documents/index.ts';
import type { Embedder } from '../../rag/embed/embedder.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { originalKey } from '../../storage/document-keys.ts';
import type { VersionCounts } from '../../db/queries/chunks.ts';
import type { DocumentUpload } from '../../workflows/shared.ts';
import type { BenchDocument } from './uploads.ts';

export interface InProcessPipeline {
  /** Builds one text document in `tenantId`, owned by `userId`; answers its chunk count. */
  ingest(tenantId: string, userId: string, document: BenchDocument): Promise<number>;
}

export function createInProcessPipeline(deps: {
  readonly config: DocumentActivityDeps['config'] & Pick<Config, 'INGESTION_ONE_STEP_MAX_BYTES'>;
  readonly pool: DatabasePool;
  readonly blobs: BlobStore;
  readonly embedder: Embedder;
}): InProcessPipeline {
  // The steps of ingestion use no Temporal client; deletion and re-embedding, not run here, do.
  const activities = createDocumentActivities({ ...deps, temporal: undefined as unknown as Client });
  return {
    async ingest(tenantId, userId, document) {
      const bytes = Buffer.from(document.text, 'utf8');
      const id = randomUUID();
      const contentSha256 = createHash('sha256').update(bytes).digest('hex');
      const blobKey = originalKey(tenantId, id, contentSha256);
      await deps.blobs.put(blobKey, bytes);
      const documentRef = { tenantId, documentId: id, ownerUserId: userId, visibility: 'tenant' as const };
      const target = {
        job: { tenantId, workflowId: `in-process-${id}`, runId: randomUUID() },
        document: documentRef,
        version: 1,
      };
      const env = new MockActivityEnvironment();
      const upload: DocumentUpload = {
        id,
        tenantId,
        ownerUserId: userId,
        visibility: 'tenant',
        title: document.title,
        description: '',
        tags: [],
        source: 'text',
        filename: null,
        mimeType: 'text/plain',
        byteSize: bytes.length,
        contentSha256,
        blobKey,
      };
      await env.run(() => activities.registerDocument({ ...target, upload }));
      if (bytes.length <= deps.config.INGESTION_ONE_STEP_MAX_BYTES) {
        return env.run(() => activities.buildDocument(target));
      }
      await env.run(() => activities.extractDocument(target));
      let counts: VersionCounts = await env.run(() => activities.chunkDocument(target));
      while (counts.embedded < counts.total) counts = await env.run(() => activities.embedChunks(target));
      return env.run(() => activities.activateDocument(target));
    },
  };
}
