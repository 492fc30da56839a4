// The re-embed job's one activity: records how far the job has come and lists the next page of
// documents whose active version was embedded with another model or dimension than this
// worker's embedder. A job asked for another model than the worker embeds with fails at once:
// re-embedding with the wrong model would only mix the vectors it is meant to replace.
import { listDocumentsToReembed, type DocumentToReembed } from '../../db/queries/documents.ts';
import { updateJobProgress } from '../../db/queries/job-records.ts';
import { withTenant } from '../../db/with-tenant.ts';
import type { JobRef } from '../../contract/jobs.ts';
import type { EmbeddingTarget, ReembedProgress } from '../../workflows/shared.ts';
import { FailureType, permanentFailure } from '../failure-types.ts';
import type { DocumentActivityDeps } from './scope.ts';

export interface ReembedPageInput {
  readonly job: JobRef & { readonly tenantId: string };
  readonly target: EmbeddingTarget;
  readonly progress: ReembedProgress;
  readonly limit: number;
}

export function createReembedActivities({ pool, embedder }: Pick<DocumentActivityDeps, 'pool' | 'embedder'>) {
  return {
    async listDocumentsToReembed(input: ReembedPageInput): Promise<readonly DocumentToReembed[]> {
      const { job, target, progress } = input;
      if (target.model !== embedder.model || target.dimensions !== embedder.dimensions) {
        throw permanentFailure(
          FailureType.EMBEDDER_MISMATCH,
          `The job re-embeds with ${target.model} (${target.dimensions} dimensions) but this worker embeds with ` +
            `${embedder.model} (${embedder.dimensions} dimensions)`,
        );
      }
      return withTenant(pool, { tenantId: job.tenantId }, async (tx) => {
        // Counts only: the id to go on after may be a member's private document, and this
        // job is the whole tenant's to see.
        await updateJobProgress(tx, job, { reembedded: progress.reembedded, failed: progress.failed });
        return listDocumentsToReembed(tx, target, { after: progress.after, limit: input.limit });
      });
    },
  };
}
