// What every document activity shares: its dependencies, the row-level-security context it
// acts in (the document's tenant, as its owner, so private documents are visible), and the
// permanent failure for a document that no longer exists.
import type { Client } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { DatabasePool } from 'slonik';
import type { Config } from '../../config.ts';
import type { TenantContext } from '../../db/with-tenant.ts';
import type { Embedder } from '../../rag/embed/embedder.ts';
import type { SandboxConfig } from '../../rag/extract/sandbox.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { JobRef } from '../../contract/jobs.ts';
import type { DocumentRef } from '../../workflows/shared.ts';
import { FailureType, permanentFailure } from '../failure-types.ts';

export interface DocumentActivityDeps {
  readonly config: Pick<
    Config,
    'CHUNK_SIZE' | 'CHUNK_OVERLAP' | 'EMBED_BATCH_SIZE' | 'MAX_CHUNKS_PER_DOCUMENT' | keyof SandboxConfig
  >;
  readonly pool: DatabasePool;
  readonly blobs: BlobStore;
  readonly embedder: Embedder;
  readonly temporal: Client;
}

/** The input of every step of an ingestion run. */
export interface VersionStep {
  readonly job: JobRef;
  readonly document: DocumentRef;
  readonly version: number;
}

export function documentScope(document: DocumentRef): TenantContext {
  return { tenantId: document.tenantId, userId: document.ownerUserId };
}

/** The target of the chunk queries: one version of one document. */
export function versionOf(step: VersionStep): { documentId: string; version: number } {
  return { documentId: step.document.documentId, version: step.version };
}

export function documentGone(document: DocumentRef): ApplicationFailure {
  return permanentFailure(FailureType.DOCUMENT_GONE, `Document ${document.documentId} no longer exists`);
}
