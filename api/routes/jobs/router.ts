// /v1/jobs: reading job status (rows written by worker activities, never here), and the
// operator's trigger for the maintenance workflow.
import Router from '@koa/router';
import { listJobEvents } from '../../../db/queries/job-events.ts';
import { findJob, listJobs } from '../../../db/queries/jobs.ts';
import { withTenant } from '../../../db/with-tenant.ts';
import { startMaintenanceJob } from '../../../workflow-client/maintenance.ts';
import { audit } from '../../audit.ts';
import { scopeOf, userOf, type ApiContextExtension, type ApiState, type RouteContext } from '../../context.ts';
import { NotFoundError } from '../../errors.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { requirePlatformAdmin } from '../../middleware/require-role.ts';
import { requireTenant } from '../../middleware/require-tenant.ts';
import { validate } from '../../middleware/validate.ts';
import { pageBody } from '../../paging.ts';
import { serialized } from '../../schemas.ts';
import {
  GetJob,
  ListJobs,
  TriggerMaintenance,
  type JobPage,
  type JobWithEvents,
  type StartedWorkflow,
} from './schema.ts';

export function createJobsRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/jobs' });
  const reader = () => [authenticate({ apiKeys: true }), requireTenant({ platform: true })] as const;
  router.get('/', ...reader(), validate(ListJobs), list);
  router.post('/maintenance', authenticate(), requirePlatformAdmin(), validate(TriggerMaintenance), triggerMaintenance);
  router.get('/:jobId', ...reader(), validate(GetJob), get);
  return router;
}

async function list(ctx: RouteContext<typeof ListJobs>) {
  const { tenantId, platform, tx } = scopeOf(ctx);
  const { cursor, ...filters } = ctx.state.input.query;
  const page = await listJobs(tx, { tenantId, platform }, { ...filters, after: cursor });
  ctx.body = pageBody('jobs', page, serialized) satisfies JobPage;
}

async function get(ctx: RouteContext<typeof GetJob>) {
  const { tenantId, platform, tx } = scopeOf(ctx);
  const job = await findJob(tx, { tenantId, platform }, ctx.state.input.params.jobId);
  if (!job) throw new NotFoundError('Job not found');
  const events = await listJobEvents(tx, job.id);
  ctx.body = { ...serialized(job), events: events.map(serialized) } satisfies JobWithEvents;
}

async function triggerMaintenance(ctx: RouteContext<typeof TriggerMaintenance>) {
  const { userId } = userOf(ctx);
  const { temporal, pool, config } = ctx.services;
  // Starting is idempotent (the workflow id is fixed and an open run is reused), so this
  // transaction body is safe to run again; the audit row commits only if the start succeeded.
  const started = await withTenant(pool, { userId }, async (tx) => {
    const run = await startMaintenanceJob(temporal, { requestedBy: userId }, { taskQueue: config.PLATFORM_TASK_QUEUE });
    await audit(ctx, tx, {
      action: 'maintenance.trigger',
      tenantId: null,
      target: { type: 'workflow', id: run.workflowId },
      details: { runId: run.runId },
    });
    return run;
  });
  ctx.status = 202;
  ctx.body = started satisfies StartedWorkflow;
}
