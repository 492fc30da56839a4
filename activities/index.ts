// The worker's activities, built from injected dependencies (see worker.ts). Workflows
// import this module as a type only: `proxyActivities<Activities>()`.
import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import type { Config } from '../config.ts';
import type { Embedder } from '../rag/embed/embedder.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { createDocumentActivities } from './documents/index.ts';
import { createJobActivities } from './jobs/index.ts';
import { createMailActivities } from './mail/index.ts';
import { createMaintenanceActivities } from './maintenance/index.ts';

export interface ActivityDeps {
  readonly config: Config;
  readonly pool: DatabasePool;
  readonly temporal: Client;
  readonly blobs: BlobStore;
  readonly embedder: Embedder;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createJobActivities(deps),
    ...createMaintenanceActivities(deps),
    ...createDocumentActivities(deps),
    ...createMailActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
