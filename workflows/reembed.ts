// Re-embeds a tenant after a change of embedding model: each document whose active version holds
// vectors of another model is reprocessed by its own ingestion workflow, started as a child under
// the document's ingestion id, so it cannot run beside a reprocess the API started, and search
// keeps serving the old version until the new one is active. Pages of documents run side by
// side; a document that fails is counted and does not stop the others. The job completes with
// its counts, and fails only when documents were to be re-embedded and none could be.
// Long tenants continue as new every DOCUMENTS_PER_RUN documents; each run is a job row of its
// own, and the last one carries the totals.
import { ParentClosePolicy, continueAsNew, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { FailureType, permanentFailure } from '../activities/failure-types.ts';
import type { Activities } from '../activities/index.ts';
import { databaseStep } from './activity-options.ts';
import { ingestionWorkflow } from './ingestion.ts';
import { runJob } from './job.ts';
import { workflowIdFor } from '../contract/jobs.ts';
import { reembedSubject, type ReembedInput, type ReembedProgress, type ReembedResult } from './shared.ts';

const { listDocumentsToReembed } = proxyActivities<Activities>(databaseStep);

/** Documents re-embedded side by side. */
const PAGE_SIZE = 10;
/** Documents handled by one run before it continues as new (about ten history events each). */
const DOCUMENTS_PER_RUN = 500;

export async function reembedWorkflow(input: ReembedInput): Promise<ReembedResult> {
  const { tenantId, target } = input;
  let progress: ReembedProgress = input.progress ?? { reembedded: 0, failed: 0, after: null };
  const spec = { tenantId, kind: 'reembed', subject: reembedSubject(target), createdBy: input.requestedBy } as const;

  const finished = await runJob(spec, async (job) => {
    for (let handled = 0; handled < DOCUMENTS_PER_RUN && !workflowInfo().continueAsNewSuggested;) {
      const page = await listDocumentsToReembed({ job: { ...job, tenantId }, target, progress, limit: PAGE_SIZE });
      if (page.length === 0) {
        if (progress.failed > 0 && progress.reembedded === 0) {
          throw permanentFailure(
            FailureType.REEMBED_FAILED,
            `None of the ${progress.failed} documents to re-embed could be re-embedded`,
          );
        }
        return true;
      }
      const outcomes = await Promise.allSettled(
        page.map((document) =>
          executeChild(ingestionWorkflow, {
            workflowId: workflowIdFor('ingestion', tenantId, document.id),
            // Cancelling the job cancels the ingestions, which settle their documents on the way out.
            parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
            args: [
              {
                document: {
                  tenantId,
                  documentId: document.id,
                  ownerUserId: document.ownerUserId,
                  visibility: document.visibility,
                },
                version: document.latestVersion + 1,
                upload: null,
                requestedBy: input.requestedBy,
                heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
              },
            ],
          }),
        ),
      );
      const failed = outcomes.filter((outcome) => outcome.status === 'rejected').length;
      progress = {
        reembedded: progress.reembedded + page.length - failed,
        failed: progress.failed + failed,
        after: page.at(-1)!.id,
      };
      handled += page.length;
    }
    return false;
  });

  if (!finished) return continueAsNew<typeof reembedWorkflow>({ ...input, progress });
  return { reembedded: progress.reembedded, failed: progress.failed };
}
