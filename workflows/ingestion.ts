// One ingestion run: builds one version of one document, step by step, each step an activity:
// register (writes the document row) → extract → chunk → embed in batches (vectors written as
// they come) → activate. A small original (IngestionInput.oneStep) is built after registration
// in one activity that runs the same steps (buildDocument). Text and vectors stay in PostgreSQL and the blob store; only ids and
// counts pass through history. The registration update completes as soon as the row exists,
// so the API can answer 201 with it. A failure or cancellation ends the version with its
// reason and leaves the previously active version serving.
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
import { bookkeeping, documentStep, embeddingStep, extractionStep, withHeartbeatTimeout } from './activity-options.ts';
import { failureReason, runJob } from './job.ts';
import {
  documentRegisteredUpdate,
  ingestionProgressQuery,
  jobPrivacyOf,
  type DocumentRegistration,
  type IngestionInput,
  type IngestionProgress,
  type IngestionResult,
} from './shared.ts';

export async function ingestionWorkflow(input: IngestionInput): Promise<IngestionResult> {
  // Every step with the run's heartbeat timeout (INGESTION_HEARTBEAT_TIMEOUT_SECONDS).
  const preset = (options: ActivityOptions) =>
    input.heartbeatTimeoutSeconds ? withHeartbeatTimeout(options, input.heartbeatTimeoutSeconds) : options;
  const { registerDocument, chunkDocument, activateDocument, buildDocument } = proxyActivities<Activities>(
    preset(documentStep),
  );
  const { extractDocument } = proxyActivities<Activities>(preset(extractionStep));
  const { embedChunks } = proxyActivities<Activities>(preset(embeddingStep));
  const { settleDocument, discardUpload } = proxyActivities<Activities>(preset(bookkeeping));
  let progress: IngestionProgress = { step: 'register', chunksEmbedded: 0, chunksTotal: 0 };
  let registration: DocumentRegistration | undefined;
  let ended = false;

  setHandler(ingestionProgressQuery, () => progress);
  // The first request is the upload that started the run; later ones (a client's retry of the
  // same upload) attach to it, and are told so.
  let registrationRequests = 0;
  setHandler(documentRegisteredUpdate, async () => {
    const attached = registrationRequests++ > 0;
    await condition(() => registration !== undefined || ended);
    if (!registration) {
      throw ApplicationFailure.create({ message: 'The document could not be registered', nonRetryable: true });
    }
    return { ...registration, attached };
  });

  const { document, version } = input;
  const spec = {
    tenantId: document.tenantId,
    privateTo: jobPrivacyOf(document),
    kind: 'ingestion',
    subject: document.documentId,
  } as const;
  try {
    return await runJob({ ...spec, createdBy: input.requestedBy }, async (job) => {
      const target = { job, document, version };
      try {
        registration = await registerDocument({ ...target, upload: input.upload, reupload: input.reupload ?? null });
        if (registration.duplicateOf) {
          // Its content is another document's: this upload's blob is not needed.
          await discardUpload(target);
          return { ...registration, chunks: 0 };
        }

        if (input.oneStep) {
          progress = { ...progress, step: 'build' };
          const chunks = await buildDocument(target);
          progress = { step: 'done', chunksTotal: chunks, chunksEmbedded: chunks };
          return { ...registration, chunks };
        }

        progress = { ...progress, step: 'extract' };
        await extractDocument(target);

        progress = { ...progress, step: 'chunk' };
        let counts = await chunkDocument(target);

        // One activity per batch, about six history events each: a document of up to ~1,500
        // batches (EMBED_BATCH_SIZE × 1,500 chunks) stays well under the 10k-event limit.
        progress = { step: 'embed', chunksTotal: counts.total, chunksEmbedded: counts.embedded };
        while (counts.embedded < counts.total) {
          counts = await embedChunks(target);
          progress = { ...progress, chunksEmbedded: counts.embedded };
        }

        progress = { ...progress, step: 'activate' };
        const chunks = await activateDocument(target);
        progress = { ...progress, step: 'done' };
        return { ...registration, chunks };
      } catch (error) {
        const outcome = isCancellation(error)
          ? ({ status: 'cancelled', error: 'Cancelled on request' } as const)
          : ({ status: 'failed', error: failureReason(error) } as const);
        await CancellationScope.nonCancellable(async () => {
          // An upload that never became a document leaves no blob behind.
          if (input.upload && !registration) await discardUpload(target);
          else await settleDocument({ ...target, ...outcome });
        });
        throw error;
      }
    });
  } finally {
    ended = true;
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  }
}
