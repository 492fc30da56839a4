// Contracts of the operational endpoints: liveness, readiness, metrics, the OpenAPI document.
import { z } from 'zod';
import type { Contract } from '../../openapi/contract.ts';
import { Timestamp } from '../../schemas.ts';

export const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
export type Health = z.infer<typeof Health>;

export const Healthz = {
  summary: 'Liveness: the process is up (checks no dependency)',
  responses: { 200: { description: 'Alive', schema: Health } },
} satisfies Contract;

const CheckResult = z.enum(['ok', 'failed']);

const TaskTypeState = z.object({
  pollers: z.number().int().min(0).describe('Pollers whose last poll began within WORKER_POLL_STALE_SECONDS'),
  lastPollAt: Timestamp.nullable().describe('When the latest listed poller last began a poll'),
});
const QueueState = z
  .object({
    taskQueue: z.string(),
    polled: z.boolean().describe('Both workflow and activity tasks have a recent poller'),
    workflow: TaskTypeState,
    activity: TaskTypeState,
  })
  .meta({ id: 'TaskQueueState' });

export const WorkersReadiness = z
  .object({ status: z.literal('ready'), queues: z.array(QueueState) })
  .meta({ id: 'WorkersReadiness' });
export type WorkersReadiness = z.infer<typeof WorkersReadiness>;

export const Readiness = z
  .object({
    status: z.literal('ready'),
    checks: z.object({ postgres: CheckResult, temporal: CheckResult }),
    workers: z
      .object({
        status: z.enum(['ready', 'not_ready', 'unknown']),
        missing: z.array(z.string()).describe('Task queues with no recent poller'),
        queues: z.array(QueueState),
      })
      .describe('Informational: /readyz does not fail for want of a worker (see /readyz/workers)'),
  })
  .meta({ id: 'Readiness' });
export type Readiness = z.infer<typeof Readiness>;

export const Readyz = {
  summary: 'Readiness: PostgreSQL and Temporal answer',
  description:
    'When one does not, the answer is 503 `not_ready` with details.checks naming which failed. The body also ' +
    'reports which task queues have workers polling them, but a missing worker does not make this 503: the API ' +
    'still serves reads and search, and accepted jobs wait in their queue. Probe /readyz/workers for that.',
  responses: { 200: { description: 'Ready to serve', schema: Readiness } },
  errors: [503],
} satisfies Contract;

export const ReadyzWorkers = {
  summary: 'Worker readiness: every task queue has a worker polling it',
  description:
    'Asks Temporal to describe each task queue the platform uses (PLATFORM_TASK_QUEUE and INGESTION_TASK_QUEUE), ' +
    'for workflow and for activity tasks, and counts the pollers whose last poll began within ' +
    'WORKER_POLL_STALE_SECONDS. The answer is kept for two seconds. When a queue has no such poller, 503 ' +
    '`workers_unavailable` with details.missing naming the queues; when Temporal cannot be asked, 503 ' +
    '`temporal_unavailable`. Both carry Retry-After.',
  responses: { 200: { description: 'Every queue has a recent poller', schema: WorkersReadiness } },
  errors: [503],
} satisfies Contract;

export const Metrics = {
  summary: 'Prometheus metrics',
  description:
    'For the scraper: send `Authorization: Bearer <METRICS_TOKEN>`. Without METRICS_TOKEN configured the ' +
    'endpoint is off (404).',
  errors: [401, 404],
  responses: {
    200: { description: 'Metrics in the Prometheus text format', schema: z.string(), contentType: 'text/plain' },
  },
} satisfies Contract;

export const OpenApi = {
  summary: 'This OpenAPI document',
  responses: { 200: { description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) } },
} satisfies Contract;
