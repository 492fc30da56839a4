// Platform maintenance: remove expired and revoked sessions and API keys (after the retention
// the database fixes), give a final status to jobs whose workflows closed without recording
// one, then remove blobs no document owns. Runs on a Temporal
// Schedule, and on demand from POST /v1/jobs/maintenance.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { databaseStep } from './activity-options.ts';
import { runJob } from './job.ts';
import { MAINTENANCE_SUBJECT, type MaintenanceInput, type MaintenanceResult } from './shared.ts';

const { purgeExpiredSessions, purgeRevokedApiKeys, reconcileJobs, sweepOrphanBlobs } =
  proxyActivities<Activities>(databaseStep);

const RECONCILE_AFTER_MINUTES = 15;
const RECONCILE_BATCH = 500;

export async function maintenanceWorkflow(input: MaintenanceInput): Promise<MaintenanceResult> {
  return runJob(
    { tenantId: null, kind: 'maintenance', subject: MAINTENANCE_SUBJECT, createdBy: input.requestedBy ?? null },
    async (job) => {
      const sessionsRemoved = await purgeExpiredSessions({ job });
      const apiKeysRemoved = await purgeRevokedApiKeys({ job });
      const jobsReconciled = await reconcileJobs({
        job,
        staleAfterMinutes: input.reconcileAfterMinutes ?? RECONCILE_AFTER_MINUTES,
        limit: RECONCILE_BATCH,
      });
      const orphanBlobs = await sweepOrphanBlobs({ job });
      return { sessionsRemoved, apiKeysRemoved, jobsReconciled, orphanBlobs };
    },
  );
}
