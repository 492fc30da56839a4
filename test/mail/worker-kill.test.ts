// A worker killed (SIGKILL, in a process of its own) in the middle of a full sync, after a batch
// of messages was stored but before Temporal heard of it: a new worker takes the batch up again
// once the heartbeat stops, and the sync ends with every message stored once, as one email, one
// document and one set of chunks each.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { mailboxWorkflowId } from '../../contract/jobs.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { tenantOwner } from '../api/harness.ts';
import { startIngestionWorker } from '../documents/harness.ts';
import { held, holdSettings } from '../documents/hold.ts';
import { spawnWorkerProcess } from '../helpers/worker.ts';
import { composeMessage, connect, startMail, waitForSync, type MailHarness } from './harness.ts';

const test = anyTest as TestFn<MailHarness>;

test.before(async (t) => {
  t.context = await startMail({ MAIL_LIST_PAGE_SIZE: '3', MAIL_BATCH_SIZE: '2' }, { worker: false });
});

test.after.always(async (t) => {
  await t.context.close();
});

const Counts = z.object({
  emails: z.number().int(),
  distinct: z.number().int(),
  documents: z.number().int(),
  chunks: z.number().int(),
  chunkKeys: z.number().int(),
});
const Event = z.object({ step: z.string(), status: z.string(), details: z.record(z.string(), z.unknown()) });

test('a worker killed after storing a batch is replaced, and the sync stores every message once', async (t) => {
  const { api, google, settings } = t.context;
  const owner = await tenantOwner(api, 'mail-kill');
  const email = `kill-${owner.userId}@gmail.test`;
  const mailbox = google.mailbox(email);
  for (let i = 1; i <= 6; i += 1) {
    mailbox.add({ raw: composeMessage({ subject: `Message ${i}`, text: `The text of message ${i}.` }) });
  }
  const hold = {
    activity: 'syncMessages',
    when: 'after' as const,
    dir: await mkdtemp(path.join(os.tmpdir(), 'hold-')),
  };
  const doomed = await spawnWorkerProcess({ ...settings, ...holdSettings(hold) });
  const { done } = await connect(t.context, owner, email);
  await held(hold);
  doomed.kill('SIGKILL');
  const replacement = await startIngestionWorker(settings);
  t.teardown(() => replacement.stop());

  const account = await waitForSync(api, owner, done.body.id);
  t.like(account, { status: 'idle', messageCount: 6, historyId: mailbox.currentHistoryId.toString() });
  const scope = { tenantId: owner.tenantId, userId: owner.userId };
  const counts = await withTenant(api.pool, scope, (tx) =>
    tx.one(sql.type(Counts)`
      SELECT count(*)::int AS emails, count(DISTINCT gmail_message_id)::int AS distinct,
             (SELECT count(*)::int FROM documents WHERE source = 'gmail') AS documents,
             (SELECT count(*)::int FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.source = 'gmail') AS chunks,
             (SELECT count(DISTINCT (c.document_id, c.version, c.ordinal))::int FROM chunks c
              JOIN documents d ON d.id = c.document_id WHERE d.source = 'gmail') AS "chunkKeys"
      FROM emails WHERE account_id = ${done.body.id}
    `),
  );
  t.like(counts, { emails: 6, distinct: 6, documents: 6 });
  t.is(counts.chunks, counts.chunkKeys);
  // The attempt that died is on record, as the next attempt wrote it down.
  const events = await withTenant(api.pool, scope, (tx) =>
    tx.any(sql.type(Event)`
      SELECT e.step, e.status, e.details FROM job_events e JOIN jobs j ON j.id = e.job_id
      WHERE j.workflow_id = ${mailboxWorkflowId(owner.tenantId, done.body.id)} AND e.step = 'syncMessages'
      ORDER BY e.id
    `),
  );
  t.true(
    events.some((e) => e.status === 'retrying' && e.details.recordedLate === true),
    JSON.stringify(events),
  );
});
