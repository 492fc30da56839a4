// A mailbox workflow that continues as new in the middle of its full sync (MAIL_STEPS_PER_RUN is
// 4 here, with pages of 3 ids in batches of 2): each run is a job row of its own, the sync goes
// on from the page token the last run carried, and every message is stored exactly once.
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { mailboxWorkflowId } from '../../contract/jobs.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { tenantOwner } from '../api/harness.ts';
import { composeMessage, connect, syncNow, startMail, waitForSync, type MailHarness } from './harness.ts';

const test = anyTest as TestFn<MailHarness>;

test.before(async (t) => {
  t.context = await startMail({ MAIL_LIST_PAGE_SIZE: '3', MAIL_BATCH_SIZE: '2', MAIL_STEPS_PER_RUN: '4' });
});

test.after.always(async (t) => {
  await t.context.close();
});

const Run = z.object({ status: z.string(), events: z.number().int() });
const Counts = z.object({ emails: z.number().int(), distinct: z.number().int(), documents: z.number().int() });

test('a full sync spread over several runs stores every message once, then syncs on', async (t) => {
  const { api, google } = t.context;
  const owner = await tenantOwner(api, 'mail-handover');
  const email = `handover-${owner.userId}@gmail.test`;
  const mailbox = google.mailbox(email);
  for (let i = 1; i <= 10; i += 1) {
    mailbox.add({ raw: composeMessage({ subject: `Message ${i}`, text: `Text of message ${i}.` }) });
  }
  const { done } = await connect(t.context, owner, email);
  const account = await waitForSync(api, owner, done.body.id);
  t.like(account, { messageCount: 10, historyId: mailbox.currentHistoryId.toString() });

  const scope = { tenantId: owner.tenantId, userId: owner.userId };
  const workflowId = mailboxWorkflowId(owner.tenantId, done.body.id);
  // The run after the full sync begins waiting for the next one a moment after the sync ended.
  const runsOf = () =>
    withTenant(api.pool, scope, (tx) =>
      tx.any(sql.type(Run)`
        SELECT j.status, (SELECT count(*)::int FROM job_events e WHERE e.job_id = j.id) AS events
        FROM jobs j WHERE j.workflow_id = ${workflowId} AND j.kind = 'mailbox' ORDER BY j.created_at
      `),
    );
  let runs = await runsOf();
  for (let waited = 0; (runs.length < 3 || runs.at(-1)?.status !== 'running') && waited < 100; waited += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    runs = await runsOf();
  }
  // 4 pages of ids (3, 3, 3, 1), 7 batches: two runs for the full sync (handing over after the
  // second page), and the third waiting for the next sync.
  t.is(runs.length, 3, JSON.stringify(runs));
  t.true(runs.slice(0, -1).every((run) => run.status === 'completed'));
  t.is(runs.at(-1)?.status, 'running');
  const counts = await withTenant(api.pool, scope, (tx) =>
    tx.one(sql.type(Counts)`
      SELECT count(*)::int AS emails, count(DISTINCT gmail_message_id)::int AS distinct,
             (SELECT count(*)::int FROM documents WHERE source = 'gmail') AS documents
      FROM emails WHERE account_id = ${done.body.id}
    `),
  );
  t.deepEqual(counts, { emails: 10, distinct: 10, documents: 10 });
  const lists = google.requests.filter((r) => r.path === '/gmail/v1/users/me/messages');
  t.is(lists.length, 4);

  mailbox.add({ raw: composeMessage({ subject: 'After the handover', text: 'Still syncing.' }) });
  t.like(await syncNow(api, owner, done.body.id), { status: 'idle', messageCount: 11 });
});
