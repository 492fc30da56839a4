// Runs a workflow's body as a job: the job row and its events in PostgreSQL, and the
// TenantId / JobKind / JobSubject / JobStatus search attributes in Temporal. A failure
// records its reason; a cancellation records `cancelled`; both are re-thrown so that
// Temporal shows the run as failed or cancelled as well.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { bookkeeping, localBookkeeping } from './activity-options.ts';
import { JobKindKey, JobStatusKey, JobSubjectKey, TenantIdKey } from '../contract/search-attributes.ts';
import { JOB_CANCELLED_ERROR, PLATFORM_TENANT, type JobKind, type JobRef, type JobStatus } from '../contract/jobs.ts';

const remote = proxyActivities<Activities>(bookkeeping);
const local = proxyLocalActivities<Activities>(localBookkeeping);

/**
 * The job's own start and end are local activities: run by the worker that runs the workflow
 * task, with no trip through the task queue and no workflow task of their own. For a small
 * document that was two of its seven activities and about a tenth of its time
 * (`npm run bench:breakdown`). Runs begun before this change replay with the activities they
 * recorded.
 */
export const LOCAL_BOOKKEEPING_PATCH = 'local-job-bookkeeping';

export interface JobSpec {
  readonly tenantId: string | null;
  /** See JobRef.privateTo. */
  readonly privateTo?: string | null;
  readonly kind: JobKind;
  readonly subject: string;
  readonly createdBy?: string | null;
}

/** The message of the error at the root of a failure, as a person should read it. */
export function failureReason(error: unknown): string {
  let current: unknown = error;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  if (current instanceof ApplicationFailure || current instanceof Error) return current.message;
  return String(current);
}

function setStatus(status: JobStatus): void {
  upsertSearchAttributes([{ key: JobStatusKey, value: status }]);
}

export async function runJob<T>(spec: JobSpec, body: (job: JobRef) => Promise<T>): Promise<T> {
  const info = workflowInfo();
  const job: JobRef = {
    tenantId: spec.tenantId,
    ...(spec.privateTo ? { privateTo: spec.privateTo } : {}),
    workflowId: info.workflowId,
    runId: info.runId,
  };
  const { jobStarted, jobFinished } = patched(LOCAL_BOOKKEEPING_PATCH) ? local : remote;
  upsertSearchAttributes([
    { key: TenantIdKey, value: spec.tenantId ?? PLATFORM_TENANT },
    { key: JobKindKey, value: spec.kind },
    { key: JobSubjectKey, value: spec.subject },
    { key: JobStatusKey, value: 'running' },
  ]);
  await jobStarted({ job, kind: spec.kind, subject: spec.subject, createdBy: spec.createdBy ?? null });

  try {
    const result = await body(job);
    await jobFinished({ job, status: 'completed', error: null });
    setStatus('completed');
    return result;
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() =>
        jobFinished({ job, status: 'cancelled', error: JOB_CANCELLED_ERROR }),
      );
      setStatus('cancelled');
    } else {
      await jobFinished({ job, status: 'failed', error: failureReason(error) });
      setStatus('failed');
    }
    throw error;
  }
}
