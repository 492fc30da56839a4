// Maintenance activities: remove expired and revoked credentials, give a final status to jobs
// whose workflows ended without recording one (terminated, timed out, lost), and remove blobs
// that no document owns. How long credentials are kept, how stale a job must be and how many one
// lookup answers are the database's to decide (maintenance_limits() in
// migrations/7_definer_hardening.sql), not ours.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { removeChunksExcept } from '../../db/queries/chunks.ts';
import { settleLostIngestion } from '../../db/queries/documents.ts';
import { finishJob, insertJobEvent, listUnfinishedJobs } from '../../db/queries/job-records.ts';
import { withTenant } from '../../db/with-tenant.ts';
import type { Config } from '../../config.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { JobRef, JobStatus } from '../../contract/jobs.ts';
import { scopeOf } from '../jobs/recorder.ts';
import { createOrphanBlobSweep } from './orphan-blobs.ts';

export interface PurgeInput {
  readonly job: JobRef;
}

export interface ReconcileInput {
  readonly job: JobRef;
  /** Only jobs that have not moved for this long are checked (the database may ask for longer). */
  readonly staleAfterMinutes: number;
  /** At most this many (the database may answer fewer). */
  readonly limit: number;
}

type FinalStatus = Extract<JobStatus, 'completed' | 'failed' | 'cancelled'>;

/** What a closed workflow's status means for its job row, and the reason recorded. */
const CLOSED_WORKFLOW_OUTCOME: Record<string, { status: FinalStatus; reason: string | null }> = {
  COMPLETED: { status: 'completed', reason: null },
  CONTINUED_AS_NEW: { status: 'completed', reason: null },
  FAILED: { status: 'failed', reason: 'workflow failed without recording its end' },
  CANCELLED: { status: 'cancelled', reason: 'workflow cancelled' },
  TERMINATED: { status: 'failed', reason: 'workflow terminated by an operator' },
  TIMED_OUT: { status: 'failed', reason: 'workflow timed out' },
};

export function createMaintenanceActivities(deps: {
  pool: DatabasePool;
  temporal: Client;
  blobs: BlobStore;
  config: Pick<Config, 'ORPHAN_BLOB_GRACE_MINUTES'>;
}) {
  const { pool, temporal } = deps;
  const purge = (fn: 'maintenance_purge_sessions' | 'maintenance_purge_api_keys') => async (_input: PurgeInput) =>
    withTenant(pool, { platform: true }, (tx) =>
      tx.oneFirst(sql.type(z.object({ removed: z.number() }))`SELECT ${sql.identifier([fn])}() AS removed`),
    );

  return {
    /** Removes document blobs no row owns, once left alone for ORPHAN_BLOB_GRACE_MINUTES. */
    sweepOrphanBlobs: createOrphanBlobSweep({ ...deps, graceMinutes: deps.config.ORPHAN_BLOB_GRACE_MINUTES }),

    /** Removes sessions that expired or were revoked longer ago than the database's retention. */
    purgeExpiredSessions: purge('maintenance_purge_sessions'),

    /** Removes API keys that were revoked or expired longer ago than the database's retention. */
    purgeRevokedApiKeys: purge('maintenance_purge_api_keys'),

    /** Gives a final status to jobs whose workflow run is closed but whose row still says running. */
    async reconcileJobs(input: ReconcileInput): Promise<number> {
      const olderThan = new Date(Date.now() - input.staleAfterMinutes * 60_000);
      const candidates = await withTenant(pool, { platform: true }, (tx) =>
        listUnfinishedJobs(tx, olderThan, input.limit),
      );
      let reconciled = 0;
      for (const candidate of candidates) {
        if (candidate.workflowId === input.job.workflowId && candidate.runId === input.job.runId) continue;
        let outcome: { status: FinalStatus; reason: string | null } | undefined;
        try {
          // A batch document's job ends with the import run that builds it.
          const workflowId = candidate.carrierWorkflowId ?? candidate.workflowId;
          const description = await temporal.workflow.getHandle(workflowId, candidate.runId).describe();
          outcome = CLOSED_WORKFLOW_OUTCOME[description.status.name];
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          outcome = { status: 'failed', reason: 'workflow run no longer exists in Temporal' };
        }
        if (!outcome) continue; // still running: nothing to mend
        const job: JobRef = candidate;
        const changed = await withTenant(pool, scopeOf(job), async (tx) => {
          const finished = await finishJob(tx, job, { status: outcome.status, error: outcome.reason });
          if (finished) {
            await insertJobEvent(tx, job, {
              step: 'reconcile',
              status: outcome.status === 'completed' ? 'completed' : outcome.status,
              message: outcome.reason ?? 'final status recorded by maintenance',
              details: { reconciledBy: input.job.workflowId },
            });
            // A lost ingestion's document ends with its job, not left processing.
            if (outcome.status !== 'completed') {
              const error = outcome.reason ?? outcome.status;
              const settled = await settleLostIngestion(tx, job, { status: outcome.status, error });
              // Its unfinished version is removed, as a settled run's is; the active one stays.
              if (settled) await removeChunksExcept(tx, settled.id, settled.activeVersion);
            }
          }
          return finished !== null;
        });
        if (changed) reconciled += 1;
      }
      return reconciled;
    },
  };
}
