// Contracts of /v1/jobs: list and get jobs with their events, and trigger maintenance.
import { z } from 'zod';
import { JobEventRow } from '../../../db/queries/job-events.ts';
import { JobRow } from '../../../db/queries/jobs.ts';
import { JOB_STATUSES } from '../../../contract/jobs.ts';
import type { Contract } from '../../openapi/contract.ts';
import { pageQuery, pageSchema } from '../../paging.ts';
import { Timestamp, Uuid } from '../../schemas.ts';

export const Job = JobRow.extend({
  tenantId: Uuid.nullable().meta({ description: 'null for platform jobs' }),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  updatedAt: Timestamp,
  finishedAt: Timestamp.nullable(),
}).meta({ id: 'Job' });
export type Job = z.infer<typeof Job>;

export const JobEvent = JobEventRow.extend({ createdAt: Timestamp }).meta({ id: 'JobEvent' });
export type JobEvent = z.infer<typeof JobEvent>;

export const JobPage = pageSchema('JobPage', 'jobs', Job);
export type JobPage = z.infer<typeof JobPage>;

export const ListJobs = {
  summary: 'Jobs of the selected tenant, newest first',
  description:
    'API keys see their own tenant. Platform admins also see platform jobs, and may omit x-tenant-id to see ' +
    'platform jobs alone.',
  query: z.object({
    kind: z.string().min(1).max(100).optional(),
    status: z.enum(JOB_STATUSES).optional(),
    ...pageQuery,
  }),
  responses: { 200: { description: 'One page of jobs', schema: JobPage } },
} satisfies Contract;

export const JobWithEvents = Job.extend({ events: z.array(JobEvent) }).meta({ id: 'JobWithEvents' });
export type JobWithEvents = z.infer<typeof JobWithEvents>;

export const GetJob = {
  summary: 'A job with its status history',
  description: 'An id that is not a UUID, unknown, or another tenant’s is answered 404.',
  params: z.object({ jobId: Uuid }),
  responses: { 200: { description: 'The job and its events, oldest first', schema: JobWithEvents } },
} satisfies Contract;

export const StartedWorkflow = z.object({ workflowId: z.string(), runId: z.string() }).meta({ id: 'StartedWorkflow' });
export type StartedWorkflow = z.infer<typeof StartedWorkflow>;

export const TriggerMaintenance = {
  summary: 'Run the maintenance workflow now (platform admins only)',
  description:
    'Removes sessions and API keys expired or revoked longer ago than the retention the database fixes ' +
    '(7 days), which no request can change. A run already in progress is returned instead of starting a ' +
    'second one. Follow it in /v1/jobs and the Temporal Web UI.',
  body: z.strictObject({}),
  responses: { 202: { description: 'The workflow that carries out the run', schema: StartedWorkflow } },
} satisfies Contract;
