// The document activities: the steps of the ingestion workflow, of document deletion and of
// re-embedding.
import { createActivateActivities } from './activate.ts';
import { createJobRecorder } from '../jobs/recorder.ts';
import { createBatchActivities } from './batch.ts';
import { createBuildActivities } from './build.ts';
import { createChunkActivities } from './chunk.ts';
import { createDeleteActivities } from './delete.ts';
import { createEmbedActivities } from './embed.ts';
import { createExtractActivities } from './extract.ts';
import { createReembedActivities } from './reembed.ts';
import { createRegisterActivities } from './register.ts';
import type { DocumentActivityDeps } from './scope.ts';

export type { DocumentActivityDeps } from './scope.ts';

export function createDocumentActivities(deps: DocumentActivityDeps) {
  const steps = {
    ...createExtractActivities(deps),
    ...createChunkActivities(deps),
    ...createEmbedActivities(deps),
    ...createActivateActivities(deps),
  };
  return {
    ...createRegisterActivities(deps),
    ...steps,
    ...createBuildActivities(steps, createJobRecorder(deps.pool)),
    ...createBatchActivities(steps, deps),
    ...createDeleteActivities(deps),
    ...createReembedActivities(deps),
  };
}
