// One batch import (POST /v1/documents/batch): many small documents built by one run instead of
// a run each. Registration writes every document row, with each document's own job, in one
// activity (the update answers the API once it has); then groups of documents are built by one
// activity each, with the steps a one-step ingestion runs (activities/documents/batch.ts). Each
// document keeps its own status, job and step history, and a document that fails does so alone.
// Only ids and counts pass through history. A cancelled import (or a group whose retries run
// out) ends its unbuilt documents as cancelled (or failed, with the reason); a document cancelled
// on its own (cancelImportDocumentsSignal) is skipped if it is not built yet.
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { BatchOutcome } from '../activities/documents/batch.ts';
import { bookkeeping, documentStep, withHeartbeatTimeout } from './activity-options.ts';
import { failureReason, runJob } from './job.ts';
import {
  batchDocumentJob,
  cancelImportDocumentsSignal,
  importProgressQuery,
  importRegisteredUpdate,
  type DocumentRef,
  type DocumentRegistration,
  type ImportInput,
  type ImportProgress,
  type ImportResult,
} from './shared.ts';

/**
 * Documents one build activity takes: its history is a handful of events for them all, and an
 * attempt lost with its worker redoes at most this many (each resumes where it stopped).
 */
export const IMPORT_BUILD_GROUP = 16;

/** The reason a cancelled document keeps, as an ingestion's. */
const CANCELLED = 'Cancelled on request';

export async function importWorkflow(input: ImportInput): Promise<ImportResult> {
  const preset = (options: ActivityOptions) =>
    input.heartbeatTimeoutSeconds ? withHeartbeatTimeout(options, input.heartbeatTimeoutSeconds) : options;
  const { registerBatch, buildBatch } = proxyActivities<Activities>(preset(documentStep));
  const { settleBatch } = proxyActivities<Activities>(preset(bookkeeping));

  let registrations: readonly DocumentRegistration[] | undefined;
  let ended = false;
  const cancelled = new Set<string>();
  let progress: ImportProgress = { total: input.uploads.length, completed: 0, failed: 0, cancelled: 0, duplicates: 0 };

  setHandler(importProgressQuery, () => progress);
  setHandler(cancelImportDocumentsSignal, (ids) => ids.forEach((id) => cancelled.add(id)));
  setHandler(importRegisteredUpdate, async () => {
    await condition(() => registrations !== undefined || ended);
    if (!registrations) {
      throw ApplicationFailure.create({ message: 'The batch could not be registered', nonRetryable: true });
    }
    return registrations;
  });

  const refOf = (documentId: string): DocumentRef => ({
    tenantId: input.tenantId,
    documentId,
    ownerUserId: input.ownerUserId,
    visibility: input.visibility,
  });
  const count = (outcomes: readonly BatchOutcome[]) => {
    for (const { status } of outcomes) progress = { ...progress, [status]: progress[status] + 1 };
  };

  try {
    return await runJob(
      {
        tenantId: input.tenantId,
        privateTo: input.visibility === 'private' ? input.ownerUserId : null,
        kind: 'import',
        subject: input.batchId,
        createdBy: input.requestedBy,
      },
      async (job) => {
        registrations = await registerBatch({ job, uploads: input.uploads, requestedBy: input.requestedBy });
        const queue = registrations.filter((registration) => !registration.duplicateOf);
        progress = { ...progress, duplicates: registrations.length - queue.length };
        const step = (documentId: string) => {
          const document = refOf(documentId);
          return { job: batchDocumentJob(job, document), document, version: 1 };
        };

        // Documents still to build, in upload order; one cancelled on its own leaves it unbuilt.
        let waiting = queue.map(({ documentId }) => documentId);
        let building: readonly string[] = [];
        const settleCancelled = async () => {
          const skipped = waiting.filter((id) => cancelled.has(id));
          if (skipped.length === 0) return;
          waiting = waiting.filter((id) => !cancelled.has(id));
          const documents = skipped.map(step);
          const ended = await settleBatch({ job, documents, status: 'cancelled', error: CANCELLED });
          progress = { ...progress, cancelled: progress.cancelled + ended };
        };
        try {
          for (;;) {
            await settleCancelled();
            if (waiting.length === 0) break;
            building = waiting.slice(0, IMPORT_BUILD_GROUP);
            waiting = waiting.slice(building.length);
            const documents = building.map(step);
            try {
              count(await buildBatch({ job, documents }));
            } catch (error) {
              if (isCancellation(error)) throw error;
              // Its retries ran out: the group's unbuilt documents fail with the reason; the rest go on.
              const ended = await settleBatch({ job, documents, status: 'failed', error: failureReason(error) });
              progress = { ...progress, failed: progress.failed + ended };
            }
            building = [];
          }
        } catch (error) {
          if (!isCancellation(error)) throw error;
          // The group being built and those after it end as cancelled (what is built stays built).
          const documents = [...building, ...waiting].map(step);
          await CancellationScope.nonCancellable(() =>
            settleBatch({ job, documents, status: 'cancelled', error: CANCELLED }),
          );
          throw error;
        }
        return progress;
      },
    );
  } finally {
    ended = true;
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  }
}
