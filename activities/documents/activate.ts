// The end of an ingestion run. Activation switches search to the new version in one
// transaction (so queries see either the old version or the new one, never a mix), then
// removes the old version's chunks. Settling ends a failed or cancelled run: the document keeps
// the reason, the unfinished version's chunks go, and the active version keeps serving.
// Either way the run's job gets its final status in the same transaction as the document, so
// no reader sees a completed document beside a running job, or the other way round; the
// job's end event follows its steps' (jobFinished).
import { countVersionChunks, recordEmbeddingModels, removeChunksExcept } from '../../db/queries/chunks.ts';
import { activateVersion, settleDocument } from '../../db/queries/documents.ts';
import { finishJob } from '../../db/queries/job-records.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { JOB_CANCELLED_ERROR } from '../../contract/jobs.ts';
import { extractedKey } from '../../storage/document-keys.ts';
import { FailureType, permanentFailure } from '../failure-types.ts';
import { documentGone, documentScope, versionOf, type DocumentActivityDeps, type VersionStep } from './scope.ts';

export interface SettleInput extends VersionStep {
  readonly status: 'failed' | 'cancelled';
  readonly error: string;
}

export function createActivateActivities({ pool, blobs }: Pick<DocumentActivityDeps, 'pool' | 'blobs'>) {
  return {
    /** Makes the version the one search serves; answers its chunk count. */
    async activateDocument(input: VersionStep): Promise<number> {
      const { document, version } = input;
      const scope = documentScope(document);
      const row = await withTenant(pool, scope, async (tx) => {
        const counts = await countVersionChunks(tx, versionOf(input));
        if (counts.embedded < counts.total) {
          throw permanentFailure(
            FailureType.VERSION_INCOMPLETE,
            `Version ${version} has ${counts.total - counts.embedded} chunks without an embedding`,
          );
        }
        await recordEmbeddingModels(tx, versionOf(input));
        const activated = await activateVersion(tx, document.documentId, version);
        if (activated) await finishJob(tx, input.job, { status: 'completed', error: null });
        return activated;
      });
      if (!row) throw documentGone(document);
      await withTenant(pool, scope, (tx) => removeChunksExcept(tx, document.documentId, version));
      await blobs.delete(extractedKey(document.tenantId, document.documentId, version));
      return row.chunkCount;
    },

    /** Ends the version as failed or cancelled and removes what it had built. */
    async settleDocument(input: SettleInput): Promise<void> {
      const { document, version } = input;
      await withTenant(pool, documentScope(document), async (tx) => {
        const settled = await settleDocument(tx, document.documentId, input);
        if (!settled) return;
        await removeChunksExcept(tx, document.documentId, settled.activeVersion);
        const jobError = input.status === 'cancelled' ? JOB_CANCELLED_ERROR : input.error;
        await finishJob(tx, input.job, { status: input.status, error: jobError });
      });
      await blobs.delete(extractedKey(document.tenantId, document.documentId, version));
    },
  };
}
