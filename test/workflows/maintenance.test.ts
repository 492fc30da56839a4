import { createHash, randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { insertDocument } from '../../db/queries/documents.ts';
import { upsertRunningJob } from '../../db/queries/job-records.ts';
import { withTenant, type TenantContext } from '../../db/with-tenant.ts';
import type { TemporalHandle } from '../../workflow-client/connection.ts';
import { ensureMaintenanceSchedule, startMaintenanceJob } from '../../workflow-client/maintenance.ts';
import { createPlatformWorker } from '../../worker.ts';
import { JobKindKey, JobStatusKey, TenantIdKey } from '../../contract/search-attributes.ts';
import type { JobRef } from '../../contract/jobs.ts';
import { MAINTENANCE_SCHEDULE_ID, type MaintenanceResult } from '../../workflows/shared.ts';
import { uniqueTaskQueue } from '../helpers/stack.ts';
import { startTestWorker, type TestWorker } from '../helpers/worker.ts';

interface Context {
  pool: DatabasePool;
  temporal: TemporalHandle;
  running: TestWorker;
  taskQueue: string;
}

const test = anyTest as TestFn<Context>;
const DAY = 24 * 60 * 60 * 1000;

test.before(async (t) => {
  const taskQueue = uniqueTaskQueue('maintenance');
  const running = await startTestWorker(createPlatformWorker, { taskQueue });
  t.context = { pool: running.pool, temporal: running.temporal, running, taskQueue };
});

test.after.always(async (t) => {
  await t.context.running?.stop();
});

async function createTenantWithUser(pool: DatabasePool) {
  const userId = randomUUID();
  const tenantId = randomUUID();
  await withTenant(pool, { tenantId, userId }, async (tx) => {
    await tx.query(sql.unsafe`
      INSERT INTO users (id, email, password_hash) VALUES (${userId}, ${`${userId}@maintenance.test`}, 'x')`);
    await tx.query(sql.unsafe`INSERT INTO tenants (id, name, created_by) VALUES (${tenantId}, 'maint', ${userId})`);
    await tx.query(sql.unsafe`
      INSERT INTO memberships (tenant_id, user_id, role) VALUES (${tenantId}, ${userId}, 'owner')`);
  });
  return { userId, tenantId };
}

const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

const EventRow = z.object({
  step: z.string(),
  status: z.string(),
  attempt: z.number(),
  message: z.string().nullable(),
});

test.serial('removes old expired sessions and revoked keys, keeps recent ones, and records the job', async (t) => {
  const { pool, temporal, taskQueue } = t.context;
  const { userId, tenantId } = await createTenantWithUser(pool);
  const oldSession = randomUUID();
  const liveSession = randomUUID();
  await withTenant(pool, { userId }, (tx) =>
    tx.query(sql.unsafe`
      INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES
        (${oldSession}, ${userId}, ${ago(30)}, ${ago(20)}),
        (${liveSession}, ${userId}, now(), now() + interval '15 minutes')`),
  );
  const oldKey = randomUUID();
  const recentlyRevokedKey = randomUUID();
  await withTenant(pool, { tenantId }, (tx) =>
    tx.query(sql.unsafe`
      INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role, revoked_at) VALUES
        (${oldKey}, ${tenantId}, 'old', ${oldKey.slice(0, 12)}, 'h', 'member', ${ago(30)}),
        (${recentlyRevokedKey}, ${tenantId}, 'recent', ${recentlyRevokedKey.slice(0, 12)}, 'h', 'member', ${ago(1)})`),
  );

  const { workflowId, runId } = await startMaintenanceJob(
    temporal.client,
    { requestedBy: userId },
    { taskQueue, subject: `test-${randomUUID()}` },
  );
  const result = (await temporal.client.workflow.getHandle(workflowId, runId).result()) as MaintenanceResult;
  t.true(result.sessionsRemoved >= 1);
  t.true(result.apiKeysRemoved >= 1);

  const sessions = await withTenant(pool, { userId }, (tx) =>
    tx.manyFirst(sql.type(z.object({ id: z.uuid() }))`SELECT id FROM sessions WHERE user_id = ${userId}`),
  );
  t.deepEqual(sessions, [liveSession]);
  const keys = await withTenant(pool, { tenantId }, (tx) =>
    tx.manyFirst(sql.type(z.object({ id: z.uuid() }))`SELECT id FROM api_keys WHERE tenant_id = ${tenantId}`),
  );
  t.deepEqual(keys, [recentlyRevokedKey]);

  const job = await withTenant(pool, { platform: true }, (tx) =>
    tx.one(sql.type(
      z.object({
        id: z.uuid(),
        status: z.string(),
        kind: z.string(),
        createdBy: z.uuid().nullable(),
        error: z.string().nullable(),
      }),
    )`SELECT id, status, kind, created_by AS "createdBy", error FROM jobs
      WHERE workflow_id = ${workflowId} AND run_id = ${runId}`),
  );
  t.like(job, { status: 'completed', kind: 'maintenance', createdBy: userId, error: null });
  const events = await withTenant(pool, { platform: true }, (tx) =>
    tx.any(
      sql.type(EventRow)`SELECT step, status, attempt, message FROM job_events WHERE job_id = ${job.id} ORDER BY id`,
    ),
  );
  t.deepEqual(
    events.map((e) => `${e.step}:${e.status}`),
    [
      'job:started',
      'purgeExpiredSessions:started',
      'purgeExpiredSessions:completed',
      'purgeRevokedApiKeys:started',
      'purgeRevokedApiKeys:completed',
      'reconcileJobs:started',
      'reconcileJobs:completed',
      'sweepOrphanBlobs:started',
      'sweepOrphanBlobs:completed',
      'job:completed',
    ],
  );

  const description = await temporal.client.workflow.getHandle(workflowId, runId).describe();
  t.is(description.typedSearchAttributes.get(JobStatusKey), 'completed');
  t.is(description.typedSearchAttributes.get(JobKindKey), 'maintenance');
  t.is(description.typedSearchAttributes.get(TenantIdKey), 'platform');

  // A platform job is invisible to a tenant's context.
  const seenByTenant = await withTenant(pool, { tenantId }, (tx) =>
    tx.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*) AS n FROM jobs WHERE id = ${job.id}`),
  );
  t.is(seenByTenant, 0);
});

test.serial('gives a terminated workflow its final status with the reason, private jobs too', async (t) => {
  const { pool, temporal, taskQueue } = t.context;
  const { tenantId, userId } = await createTenantWithUser(pool);
  // Jobs whose workflows were terminated before they could record their end: one the tenant's,
  // one private to its user (as a private document's ingestion is), written in their context.
  const orphans: { jobRef: JobRef; context: TenantContext }[] = [];
  for (const privateTo of [null, userId]) {
    const orphan = await temporal.client.workflow.start('maintenanceWorkflow', {
      taskQueue: uniqueTaskQueue('nobody-polls'),
      workflowId: `test-orphan-${randomUUID()}`,
      args: [{}],
    });
    const jobRef = { tenantId, privateTo, workflowId: orphan.workflowId, runId: orphan.firstExecutionRunId };
    const context = { tenantId, userId: privateTo };
    await withTenant(pool, context, (tx) =>
      upsertRunningJob(tx, jobRef, { kind: 'maintenance', subject: 'orphan', createdBy: null }),
    );
    await orphan.terminate('test: worker lost');
    // The database lists a job for reconciliation only once it has not moved for a while
    // (maintenance_limits()), whatever the workflow asks: this one was lost an hour ago.
    await withTenant(pool, context, (tx) =>
      tx.query(
        sql.unsafe`UPDATE jobs SET updated_at = now() - interval '1 hour' WHERE workflow_id = ${jobRef.workflowId}`,
      ),
    );
    orphans.push({ jobRef, context });
  }

  const { workflowId, runId } = await startMaintenanceJob(
    temporal.client,
    { requestedBy: userId, reconcileAfterMinutes: 0 },
    { taskQueue, subject: `test-${randomUUID()}` },
  );
  const result = (await temporal.client.workflow.getHandle(workflowId, runId).result()) as MaintenanceResult;
  t.true(result.jobsReconciled >= 2);

  for (const { jobRef, context } of orphans) {
    const row = await withTenant(pool, context, (tx) =>
      tx.one(sql.type(z.object({ id: z.uuid(), status: z.string(), error: z.string().nullable() }))`
        SELECT id, status, error FROM jobs WHERE workflow_id = ${jobRef.workflowId}`),
    );
    t.like(row, { status: 'failed', error: 'workflow terminated by an operator' });
    const events = await withTenant(pool, context, (tx) =>
      tx.any(sql.type(EventRow)`SELECT step, status, attempt, message FROM job_events WHERE job_id = ${row.id}`),
    );
    t.deepEqual(
      events.map((e) => `${e.step}:${e.status}:${e.message}`),
      ['reconcile:failed:workflow terminated by an operator'],
    );
  }
  const privateSeenByTenant = await withTenant(pool, { tenantId }, (tx) =>
    tx.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*) AS n FROM jobs WHERE workflow_id = ${orphans[1]!.jobRef.workflowId}`),
  );
  t.is(privateSeenByTenant, 0);
});

test.serial('ends a lost ingestion with its document, which no longer shows processing', async (t) => {
  const { pool, temporal, taskQueue } = t.context;
  const { tenantId, userId } = await createTenantWithUser(pool);
  const context = { tenantId, userId };
  const documentId = randomUUID();
  await withTenant(pool, context, (tx) =>
    insertDocument(tx, {
      id: documentId,
      tenantId,
      ownerUserId: userId,
      visibility: 'tenant',
      title: 'Lost',
      description: '',
      tags: [],
      source: 'text',
      filename: null,
      mimeType: 'text/plain',
      byteSize: 4,
      contentSha256: createHash('sha256').update(documentId).digest('hex'),
      blobKey: `documents/${tenantId}/${documentId}/original`,
    }),
  );
  // Its ingestion's workflow was terminated before it could settle the document.
  const lost = await temporal.client.workflow.start('maintenanceWorkflow', {
    taskQueue: uniqueTaskQueue('nobody-polls'),
    workflowId: `test-lost-ingestion-${randomUUID()}`,
    args: [{}],
  });
  const jobRef = { tenantId, privateTo: null, workflowId: lost.workflowId, runId: lost.firstExecutionRunId };
  await withTenant(pool, context, (tx) =>
    upsertRunningJob(tx, jobRef, { kind: 'ingestion', subject: documentId, createdBy: userId }),
  );
  await lost.terminate('test: worker lost');
  await withTenant(pool, context, (tx) =>
    tx.query(sql.unsafe`UPDATE jobs SET updated_at = now() - interval '1 hour' WHERE workflow_id = ${lost.workflowId}`),
  );

  const { workflowId, runId } = await startMaintenanceJob(
    temporal.client,
    { requestedBy: userId, reconcileAfterMinutes: 0 },
    { taskQueue, subject: `test-${randomUUID()}` },
  );
  await temporal.client.workflow.getHandle(workflowId, runId).result();
  const Status = z.object({ status: z.string(), error: z.string().nullable() });
  const [job, document] = await withTenant(pool, context, async (tx) => [
    await tx.one(sql.type(Status)`SELECT status, error FROM jobs WHERE workflow_id = ${lost.workflowId}`),
    await tx.one(sql.type(Status)`SELECT status, error FROM documents WHERE id = ${documentId}`),
  ]);
  t.deepEqual(job, { status: 'failed', error: 'workflow terminated by an operator' });
  t.deepEqual(document, job);
});

test('a repeated maintenance request attaches to the running job', async (t) => {
  const { temporal } = t.context;
  const subject = `test-${randomUUID()}`;
  const idleQueue = uniqueTaskQueue('idle');
  const first = await startMaintenanceJob(
    temporal.client,
    { requestedBy: randomUUID() },
    {
      taskQueue: idleQueue,
      subject,
    },
  );
  const second = await startMaintenanceJob(
    temporal.client,
    { requestedBy: randomUUID() },
    {
      taskQueue: idleQueue,
      subject,
    },
  );
  t.is(second.workflowId, first.workflowId);
  t.is(second.runId, first.runId);
  await temporal.client.workflow.getHandle(first.workflowId, first.runId).terminate('test done');
});

test('creates the maintenance schedule once and leaves an existing one alone', async (t) => {
  const { temporal } = t.context;
  const options = { intervalMinutes: 60, taskQueue: uniqueTaskQueue('schedule') };
  const first = await ensureMaintenanceSchedule(temporal.client, options);
  const second = await ensureMaintenanceSchedule(temporal.client, options);
  t.deepEqual([first, second], ['created', 'exists']);
  const schedule = await temporal.client.schedule.getHandle(MAINTENANCE_SCHEDULE_ID).describe();
  t.is(schedule.action.type, 'startWorkflow');
  t.is(schedule.action.workflowType, 'maintenanceWorkflow');
  t.deepEqual(
    schedule.spec.intervals?.map((i) => i.every),
    [60 * 60 * 1000],
  );
});
