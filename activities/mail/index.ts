// The mailbox activities: the steps of the mailbox workflow (sync.ts), the batch that stores and
// indexes messages (store.ts) and the push notifications' watch (watch.ts), sharing one Gmail
// client per account (scope.ts).
import type { DatabasePool } from 'slonik';
import type { Config } from '../../config.ts';
import type { Embedder } from '../../rag/embed/embedder.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { createGmailClients } from './scope.ts';
import { createStoreActivities } from './store.ts';
import { createSyncActivities } from './sync.ts';
import { createWatchActivities } from './watch.ts';

export interface MailActivityDeps {
  readonly config: Config;
  readonly pool: DatabasePool;
  readonly blobs: BlobStore;
  readonly embedder: Embedder;
}

export function createMailActivities(deps: MailActivityDeps) {
  const clientFor = createGmailClients(deps.pool, deps.config);
  return {
    ...createSyncActivities({ ...deps, clientFor }),
    ...createStoreActivities({ ...deps, clientFor }),
    ...createWatchActivities({ ...deps, clientFor }),
  };
}
