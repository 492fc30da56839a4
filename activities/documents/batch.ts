// The activities of a batch import (workflows/import.ts): many small documents that share one
// workflow run, each keeping what a document of its own run has: its row and status, a job of
// its own with its step history, and its retries.
//
// Registration writes every document row of the batch, each document's job and its first events
// in one transaction (one scope: the batch's documents share an owner and a visibility). A build
// activity takes a group of documents and builds each one with the same steps as a one-step run
// (build.ts), a few at a time, so that one document's database round trips overlap another's
// embedding. A document that fails for good ends failed with its reason, in its own transaction,
// and the others go on; a transient failure (the database, the blob store or the embedder down)
// fails the attempt after the group's other documents are done, so that Temporal retries it, and
// the retry builds only what is still processing.
import { Context } from '@temporalio/activity';
import pLimit from 'p-limit';
import { findDocuments, findDocumentByContent, insertDocument, settleDocument } from '../../db/queries/documents.ts';
import {
  finishJob,
  insertJobEvent,
  jobExists,
  unrecordedJobEnd,
  upsertRunningJob,
} from '../../db/queries/job-records.ts';
import type { JobEventInput } from '../../db/queries/job-records.ts';
import { withTenant, type TenantConnection } from '../../db/with-tenant.ts';
import { JOB_CANCELLED_ERROR, type JobRef } from '../../contract/jobs.ts';
import { removeChunksExcept } from '../../db/queries/chunks.ts';
import { extractedKey } from '../../storage/document-keys.ts';
import {
  batchDocumentJob,
  type DocumentRef,
  type DocumentRegistration,
  type DocumentUpload,
} from '../../workflows/shared.ts';
import { FailureType, permanentFailure } from '../failure-types.ts';
import { toActivityFailure } from '../failures.ts';
import { attemptEndOf, errorMessage } from '../jobs/interceptor.ts';
import { BuildFailure, buildSteps, type BuildSteps } from './build.ts';
import { documentScope, type DocumentActivityDeps, type VersionStep } from './scope.ts';

/** Documents of a group built at once: enough to overlap round trips, few enough to share two cores. */
const BUILD_CONCURRENCY = 4;

export interface RegisterBatchInput {
  /** The import's own job. */
  readonly job: JobRef;
  readonly uploads: readonly DocumentUpload[];
  readonly requestedBy: string | null;
}

export interface BuildBatchInput {
  readonly job: JobRef;
  /** Each document's own step: its job (batchDocumentJob), the document and version 1. */
  readonly documents: readonly VersionStep[];
}

export interface BatchOutcome {
  readonly documentId: string;
  readonly status: 'completed' | 'failed' | 'cancelled';
  readonly chunks: number;
}

export interface SettleBatchInput extends BuildBatchInput {
  readonly status: 'failed' | 'cancelled';
  readonly error: string;
}

export function refOfUpload(upload: DocumentUpload): DocumentRef {
  const { tenantId, id: documentId, ownerUserId, visibility } = upload;
  return { tenantId, documentId, ownerUserId, visibility };
}

/** Ends a document's job with its end event, once (as jobFinished does for a run of its own). */
async function recordJobEnd(tx: TenantConnection, job: JobRef): Promise<void> {
  const end = await unrecordedJobEnd(tx, job);
  if (end) {
    await insertJobEvent(tx, job, { step: 'job', status: end.status, durationMs: end.durationMs, message: end.error });
  }
}

async function recordAll(tx: TenantConnection, job: JobRef, events: readonly JobEventInput[]): Promise<void> {
  for (const event of events) await insertJobEvent(tx, job, event);
}

export function createBatchActivities(
  steps: BuildSteps,
  { pool, blobs }: Pick<DocumentActivityDeps, 'pool' | 'blobs'>,
) {
  /** Ends a document that is still processing as failed or cancelled, with its events and its job's end. */
  async function settle(
    target: VersionStep,
    outcome: { status: 'failed' | 'cancelled'; error: string },
    events: readonly JobEventInput[],
  ): Promise<void> {
    const { document, version, job } = target;
    await withTenant(pool, documentScope(document), async (tx) => {
      await recordAll(tx, job, events);
      const settled = await settleDocument(tx, document.documentId, { version, ...outcome });
      if (settled) {
        await removeChunksExcept(tx, document.documentId, settled.activeVersion);
        const jobError = outcome.status === 'cancelled' ? JOB_CANCELLED_ERROR : outcome.error;
        await finishJob(tx, job, { status: outcome.status, error: jobError });
      }
      await recordJobEnd(tx, job);
    });
    await blobs.delete(extractedKey(document.tenantId, document.documentId, version));
  }

  /** The documents of the group still to build; the others with how they ended. */
  async function sortOut(input: BuildBatchInput) {
    const first = input.documents[0];
    if (!first) return { pending: [], done: [] };
    const rows = await withTenant(pool, documentScope(first.document), (tx) =>
      findDocuments(
        tx,
        input.documents.map((target) => target.document.documentId),
      ),
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const pending: { target: VersionStep; index: number }[] = [];
    const done: BatchOutcome[] = [];
    input.documents.forEach((target, index) => {
      const row = byId.get(target.document.documentId);
      if (row && row.status === 'processing' && row.latestVersion === target.version) pending.push({ target, index });
      else {
        const status = row?.status === 'completed' || row?.status === 'cancelled' ? row.status : 'failed';
        done.push({ documentId: target.document.documentId, status, chunks: row?.chunkCount ?? 0 });
      }
    });
    return { pending, done };
  }

  return {
    /**
     * Writes the batch's document rows, each document's job and its registration events, in one
     * transaction; answers each upload's registration in order. An upload whose content is
     * already a document of the scope is a duplicate of it. Idempotent: a retried attempt finds
     * the rows and jobs it wrote.
     */
    async registerBatch(input: RegisterBatchInput): Promise<DocumentRegistration[]> {
      const first = input.uploads[0];
      if (!first) return [];
      const { info } = Context.current();
      return withTenant(pool, documentScope(refOfUpload(first)), async (tx) => {
        const registrations: DocumentRegistration[] = [];
        for (const [index, upload] of input.uploads.entries()) {
          const registered = { documentId: upload.id, version: 1, duplicateOf: null };
          const job = batchDocumentJob(input.job, refOfUpload(upload));
          const startedAt = performance.now();
          if (!(await insertDocument(tx, upload))) {
            // Written by an earlier attempt of this registration, if its job is this run's;
            // else another upload's document of the same id or content.
            if (await jobExists(tx, job)) {
              registrations.push(registered);
              continue;
            }
            const duplicate = (await findDocuments(tx, [upload.id]))[0] ?? (await findDocumentByContent(tx, upload));
            if (!duplicate) {
              throw permanentFailure(
                FailureType.DOCUMENT_CONFLICT,
                `Document ${upload.id} conflicts with a row this context cannot see`,
              );
            }
            registrations.push({ ...registered, duplicateOf: duplicate.id });
            continue;
          }
          await upsertRunningJob(tx, job, { kind: 'ingestion', subject: upload.id, createdBy: input.requestedBy });
          const activityId = `${info.activityId}/${index + 1}`;
          await recordAll(tx, job, [
            { step: 'job', status: 'started' },
            { step: 'registerDocument', activityId, status: 'started', attempt: info.attempt },
            {
              step: 'registerDocument',
              activityId,
              status: 'completed',
              attempt: info.attempt,
              durationMs: Math.round(performance.now() - startedAt),
            },
          ]);
          registrations.push(registered);
        }
        return registrations;
      });
    },

    /** Builds each document of the group that is still processing; answers how each one ended. */
    async buildBatch(input: BuildBatchInput): Promise<BatchOutcome[]> {
      const { info, cancellationSignal } = Context.current();
      const { pending, done } = await sortOut(input);
      const limit = pLimit(BUILD_CONCURRENCY);
      let transient: BuildFailure | undefined;
      const built = await Promise.all(
        pending.map(({ target, index }) =>
          limit(async (): Promise<BatchOutcome | null> => {
            if (transient !== undefined) return null;
            const activityId = `${info.activityId}/${index + 1}`;
            const { job } = target;
            const startedAt = performance.now();
            const build = (status: JobEventInput['status'], message: string | null = null): JobEventInput[] => [
              {
                step: 'buildDocument',
                activityId,
                status,
                attempt: info.attempt,
                durationMs: Math.round(performance.now() - startedAt),
                message,
              },
            ];
            const opening: JobEventInput = {
              step: 'buildDocument',
              activityId,
              status: 'started',
              attempt: info.attempt,
            };
            try {
              const { chunks, events } = await buildSteps(steps, target, {
                activityId,
                attempt: info.attempt,
                signal: cancellationSignal,
              });
              await withTenant(pool, documentScope(target.document), async (tx) => {
                await recordAll(tx, job, [opening, ...events, ...build('completed')]);
                await recordJobEnd(tx, job);
              });
              Context.current().heartbeat();
              return { documentId: target.document.documentId, status: 'completed', chunks };
            } catch (error) {
              if (!(error instanceof BuildFailure)) throw error;
              const failure = toActivityFailure(error.error);
              const end = attemptEndOf(failure, cancellationSignal);
              const events = [opening, ...error.events, ...build(end, errorMessage(failure))];
              if (end === 'failed') {
                await settle(target, { status: 'failed', error: errorMessage(failure) }, events);
                return { documentId: target.document.documentId, status: 'failed', chunks: 0 };
              }
              // Retried with the attempt (or cancelled with it): the others of the group go on.
              await withTenant(pool, documentScope(target.document), (tx) => recordAll(tx, job, events)).catch(
                () => undefined,
              );
              transient ??= error;
              return null;
            }
          }),
        ),
      );
      // The attempt fails as the document's step did (a BuildFailure holds that step's error).
      if (transient !== undefined) throw transient.error as Error;
      return [...done, ...built.filter((outcome): outcome is BatchOutcome => outcome !== null)];
    },

    /**
     * Ends the group's documents still processing as failed or cancelled (a batch that cannot go
     * on); answers how many it ended.
     */
    async settleBatch(input: SettleBatchInput): Promise<number> {
      const { pending } = await sortOut(input);
      for (const { target } of pending) await settle(target, { status: input.status, error: input.error }, []);
      return pending.length;
    },
  };
}
