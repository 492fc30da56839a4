// The mailbox workflow end to end: the API and a worker with the real google-auth-library and
// @googleapis/gmail clients against the Google stand-in, whose mailbox each test changes. Small
// pages and batches (3 ids a page, 2 messages a batch) so that paging and batching are exercised.
// Serial: the stand-in's faults apply to whichever request comes next.
import { readFile } from 'node:fs/promises';
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { mailboxWorkflowId } from '../../contract/jobs.ts';
import { addMember, call, tenantOwner } from '../api/harness.ts';
import type { GmailMailbox } from '../../devtools/google-stand-in/gmail-mailbox.ts';
import {
  as,
  composeMessage,
  connect,
  startMail,
  syncNow,
  waitForAccount,
  waitForSync,
  type MailHarness,
  type Owner,
} from './harness.ts';

const test = anyTest as TestFn<MailHarness>;

test.before(async (t) => {
  t.context = await startMail({ MAIL_LIST_PAGE_SIZE: '3', MAIL_BATCH_SIZE: '2' });
});

test.after.always(async (t) => {
  await t.context.close();
});

const fixture = (name: string) => readFile(new URL(`../fixtures/documents/${name}`, import.meta.url));

/** A user with a tenant, a mailbox at the stand-in holding `count` plain messages, connected and synced once. */
async function syncedMailbox(
  t: { context: MailHarness },
  label: string,
  fill: (mailbox: GmailMailbox) => Promise<void> | void,
) {
  const { api, google } = t.context;
  const owner = await tenantOwner(api, label);
  const email = `${label}-${owner.userId}@gmail.test`;
  await fill(google.mailbox(email));
  const { done } = await connect(t.context, owner, email);
  if (done.status !== 200) throw new Error(`callback failed: ${JSON.stringify(done.body)}`);
  const account = await waitForSync(api, owner, done.body.id);
  return { owner, email, mailbox: google.mailbox(email), accountId: done.body.id as string, account };
}

function plain(mailbox: GmailMailbox, subject: string, text: string, labelIds?: string[]) {
  return mailbox.add({ raw: composeMessage({ subject, text }), ...(labelIds ? { labelIds } : {}) });
}

async function search(t: { context: MailHarness }, owner: Owner, query: string) {
  const reply = await call(t.context.api, 'POST', '/v1/search', {
    ...as(owner),
    body: { query, k: 10, mode: 'lexical', filters: { sources: ['gmail'] } },
  });
  if (reply.status !== 200) throw new Error(`search failed: ${JSON.stringify(reply.body)}`);
  return reply.body.results as { title: string; text: string; location: { heading: string | null } }[];
}

const EmailRow = z.object({
  gmailId: z.string(),
  subject: z.string(),
  labels: z.array(z.string()),
  isRead: z.boolean(),
  isImportant: z.boolean(),
  hasAttachments: z.boolean(),
  sender: z.string().nullable(),
  to: z.array(z.string()),
  documentId: z.string().nullable(),
});

function emailsOf(t: { context: MailHarness }, owner: Owner, accountId: string) {
  return withTenant(t.context.api.pool, { tenantId: owner.tenantId, userId: owner.userId }, (tx) =>
    tx.any(sql.type(EmailRow)`
      SELECT gmail_message_id AS "gmailId", subject, labels, is_read AS "isRead", is_important AS "isImportant",
             has_attachments AS "hasAttachments", sender, to_addresses AS "to", document_id AS "documentId"
      FROM emails WHERE account_id = ${accountId} ORDER BY subject
    `),
  );
}

const Attachment = z.object({
  filename: z.string().nullable(),
  status: z.string(),
  format: z.string().nullable(),
  reason: z.string().nullable(),
});

function attachmentsOf(t: { context: MailHarness }, owner: Owner, accountId: string) {
  return withTenant(t.context.api.pool, { tenantId: owner.tenantId, userId: owner.userId }, (tx) =>
    tx.any(sql.type(Attachment)`
      SELECT a.filename, a.status, a.format, a.skip_reason AS reason
      FROM email_attachments a JOIN emails e ON e.id = a.email_id
      WHERE e.account_id = ${accountId} ORDER BY a.filename
    `),
  );
}

const Event = z.object({ step: z.string(), status: z.string(), message: z.string().nullable() });

/** The events of every run (job row) of the account's mailbox workflow, oldest first. */
function mailboxEvents(t: { context: MailHarness }, owner: Owner, accountId: string) {
  return withTenant(t.context.api.pool, { tenantId: owner.tenantId, userId: owner.userId }, (tx) =>
    tx.any(sql.type(Event)`
      SELECT e.step, e.status, e.message FROM job_events e JOIN jobs j ON j.id = e.job_id
      WHERE j.workflow_id = ${mailboxWorkflowId(owner.tenantId, accountId)}
      ORDER BY e.id
    `),
  );
}

test.serial(
  'a full sync stores every message once, attachments read or skipped with a reason, searchable',
  async (t) => {
    const review = await fixture('review.eml');
    const png = await fixture('image.png');
    const { owner, mailbox, accountId, account } = await syncedMailbox(t, 'mail-full', (box) => {
      for (let i = 1; i <= 5; i += 1)
        plain(box, `Plain message ${i}`, `Body number ${i} about the quarterly gazebo plan.`);
      box.add({ raw: review, labelIds: ['INBOX', 'IMPORTANT'] });
      box.add({
        raw: composeMessage({
          subject: 'Site photos and minutes',
          text: 'See the minutes attached.',
          attachments: [
            {
              filename: 'minutes.txt',
              contentType: 'text/plain',
              content: 'The committee approved the heliotrope fence. '.repeat(30),
            },
            { filename: 'photo.png', contentType: 'image/png', content: png },
          ],
        }),
      });
    });
    t.like(account, {
      status: 'idle',
      statusReason: null,
      messageCount: 7,
      historyId: mailbox.currentHistoryId.toString(),
    });
    t.true(account.attachmentCount >= 4);
    // The account shows its sync's step history from the jobs tables.
    t.is(account.sync?.status, 'running');
    t.true(account.sync?.events.some((e) => e.step === 'syncMessages' && e.status === 'completed'));

    const emails = await emailsOf(t, owner, accountId);
    t.is(emails.length, 7);
    t.is(new Set(emails.map((email) => email.gmailId)).size, 7);
    t.true(emails.every((email) => email.documentId !== null));
    const plain1 = emails.find((email) => email.subject === 'Plain message 1');
    t.like(plain1, { labels: ['INBOX', 'UNREAD'], isRead: false, isImportant: false, hasAttachments: false });
    t.is(plain1?.sender, '"Ada Lovelace" <ada@example.test>');
    t.deepEqual(plain1?.to, ['Quarry User <user@gmail.test>']);

    const attachments = await attachmentsOf(t, owner, accountId);
    t.like(
      attachments.find((a) => a.filename === 'minutes.txt'),
      { status: 'indexed', format: 'txt', reason: null },
    );
    const photo = attachments.find((a) => a.filename === 'photo.png');
    t.like(photo, { status: 'skipped', format: null });
    t.regex(photo?.reason ?? '', /^unsupported_format/);
    t.like(
      attachments.find((a) => a.filename === 'handbook.docx'),
      { status: 'indexed', format: 'docx' },
    );

    const [hit] = await search(t, owner, 'heliotrope fence');
    t.is(hit?.title, 'Site photos and minutes');
    t.is(hit?.location.heading, 'attachment minutes.txt of mail "Site photos and minutes"');
    t.is((await search(t, owner, 'gazebo')).length, 5);

    // Every page of ids and every batch was an activity; no message was fetched twice.
    const raws = t.context.google.requests.filter(
      (r) =>
        r.path.startsWith('/gmail/v1/users/me/messages/') &&
        r.params.format === 'raw' &&
        mailbox.messages.has(r.path.split('/').at(-1)!),
    );
    t.is(raws.length, 7);
    const steps = (await mailboxEvents(t, owner, accountId)).filter((e) => e.status === 'completed').map((e) => e.step);
    t.is(steps.filter((step) => step === 'listMessagePage').length, 3);
    t.is(steps.filter((step) => step === 'syncMessages').length, 5);
  },
);

test.serial(
  'an incremental sync adds, deletes and relabels from the history, and deleted mail leaves search',
  async (t) => {
    const { owner, mailbox, accountId } = await syncedMailbox(t, 'mail-incr', (box) => {
      plain(box, 'Keep me', 'The albatross itinerary stays.');
      plain(box, 'Delete me', 'The pangolin budget goes away.');
      plain(box, 'Relabel me', 'The narwhal agenda is read.');
    });
    const byId = new Map(
      [...mailbox.messages.values()].map((m) => [m.raw.toString().match(/Subject: (.*)\r/)![1], m.id]),
    );
    mailbox.delete(byId.get('Delete me')!);
    mailbox.relabel(byId.get('Relabel me')!, { add: ['IMPORTANT', 'Label_7'], remove: ['UNREAD'] });
    plain(mailbox, 'New arrival', 'The okapi proposal arrives.');
    t.is((await search(t, owner, 'pangolin')).length, 1);

    const account = await syncNow(t.context.api, owner, accountId);
    t.like(account, { status: 'idle', messageCount: 3, historyId: mailbox.currentHistoryId.toString() });
    const emails = await emailsOf(t, owner, accountId);
    t.deepEqual(
      emails.map((e) => e.subject),
      ['Keep me', 'New arrival', 'Relabel me'],
    );
    t.like(
      emails.find((e) => e.subject === 'Relabel me'),
      { labels: ['IMPORTANT', 'INBOX', 'Label_7'], isRead: true, isImportant: true },
    );
    t.deepEqual(await search(t, owner, 'pangolin'), []);
    t.is((await search(t, owner, 'okapi')).length, 1);
    // No full sync again: one messages.list walk, at the start.
    const history = t.context.google.requests.filter((r) => r.path === '/gmail/v1/users/me/history');
    t.true(history.some((r) => r.params.startHistoryId !== undefined && r.status === 200));
  },
);

test.serial('a history id Gmail no longer has runs a full sync again, recorded, without duplicates', async (t) => {
  const { owner, mailbox, accountId, account } = await syncedMailbox(t, 'mail-expired', (box) => {
    for (let i = 1; i <= 4; i += 1) plain(box, `Old ${i}`, `Old body ${i}`);
  });
  const expired = account.historyId as string;
  plain(mailbox, 'After expiry', 'The quokka memo.');
  // Deleted while the history is lost: only the full sync can tell, by not finding it.
  const old1 = [...mailbox.messages.values()].find((m) => m.raw.includes('Subject: Old 1'))!;
  mailbox.delete(old1.id);
  mailbox.expireHistory();
  const after = await syncNow(t.context.api, owner, accountId);
  t.like(after, { status: 'idle', messageCount: 4, historyId: mailbox.currentHistoryId.toString() });
  t.deepEqual(
    (await emailsOf(t, owner, accountId)).map((e) => e.subject),
    ['After expiry', 'Old 2', 'Old 3', 'Old 4'],
  );
  t.false((await search(t, owner, 'Old body 1')).some((hit) => hit.title === 'Old 1'));
  const events = await mailboxEvents(t, owner, accountId);
  const notice = events.find((e) => e.step === 'fullSync' && e.status === 'info');
  t.regex(
    notice?.message ?? '',
    new RegExp(`^Gmail no longer has the history from ${expired}: full sync again from \\d+$`),
  );
  t.true(events.some((e) => e.step === 'syncHistoryPage' && e.status === 'failed'));
  t.is((await search(t, owner, 'quokka')).length, 1);
});

test.serial('Gmail rate limits (429 with Retry-After, 403 rateLimitExceeded) are waited out and retried', async (t) => {
  const { owner, mailbox, accountId } = await syncedMailbox(t, 'mail-429', (box) => {
    plain(box, 'Before', 'Before the storm.');
  });
  plain(mailbox, 'During', 'The wombat schedule.');
  t.context.google.failNextGmail({ status: 429, retryAfterSeconds: 1, path: /\/history$/ });
  // Twice: google-auth-library answers a first 403 by refreshing the token and asking again.
  t.context.google.failNextGmail({ status: 403, reason: 'userRateLimitExceeded', path: /\/messages\/[0-9a-f]+$/ }, 2);
  const started = Date.now();
  const account = await syncNow(t.context.api, owner, accountId);
  t.true(Date.now() - started >= 1000, 'Retry-After was honoured');
  t.like(account, { status: 'idle', messageCount: 2 });
  const refused = t.context.google.requests.filter((r) => r.status === 429 || r.status === 403);
  t.true(refused.length >= 2);
  const events = await mailboxEvents(t, owner, accountId);
  t.true(events.some((e) => e.step === 'syncHistoryPage' && e.status === 'retrying'));
  t.true(events.some((e) => e.step === 'syncMessages' && e.status === 'retrying'));
  t.is((await search(t, owner, 'wombat')).length, 1);
});

test.serial('a message Gmail refuses (400) is recorded and skipped; the others are stored', async (t) => {
  const { owner, mailbox, accountId } = await syncedMailbox(t, 'mail-400', (box) => {
    plain(box, 'Fine', 'Nothing to see.');
  });
  const bad = plain(mailbox, 'Refused', 'Gmail will not serve this.');
  plain(mailbox, 'Also fine', 'The ibis report.');
  mailbox.failMessage(bad.id, 400);
  const account = await syncNow(t.context.api, owner, accountId);
  t.like(account, { status: 'idle', messageCount: 2 });
  const events = await mailboxEvents(t, owner, accountId);
  const skipped = events.find((e) => e.step === 'syncMessages' && e.status === 'info');
  t.regex(skipped?.message ?? '', new RegExp(`^Message ${bad.id} skipped: Gmail refused the request \\(HTTP 400`));
});

test.serial(
  'invalid_grant shows needs_reauth and waits; reconnecting resumes from the stored history id',
  async (t) => {
    const { api, google } = t.context;
    const { owner, email, mailbox, accountId } = await syncedMailbox(t, 'mail-reauth', (box) => {
      plain(box, 'First', 'The first letter.');
    });
    google.revokeGrantsOf(email);
    plain(mailbox, 'While revoked', 'The caracal note.');
    await call(api, 'POST', `/v1/mail/accounts/${accountId}/sync`, as(owner));
    const waiting = await waitForAccount(api, owner, accountId, (a) => a.status === 'needs_reauth', 'needs_reauth');
    t.regex(
      waiting.statusReason ?? '',
      /^Google refused the grant \(invalid_grant: Token has been expired or revoked\.\): connect the mailbox again$/,
    );
    // No retry storm: the workflow waits, and asks Google nothing more.
    const asked = google.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    t.is(google.requests.length, asked);

    const listsBefore = google.requests.filter((r) => r.path === '/gmail/v1/users/me/messages').length;
    const again = await connect(t.context, owner, email, { address: email });
    t.is(again.done.status, 200);
    const account = await waitForSync(api, owner, accountId, waiting.updatedAt);
    t.like(account, { status: 'idle', messageCount: 2, historyId: mailbox.currentHistoryId.toString() });
    t.is(google.requests.filter((r) => r.path === '/gmail/v1/users/me/messages').length, listsBefore);
    t.deepEqual(
      (await emailsOf(t, owner, accountId)).map((e) => e.subject),
      ['First', 'While revoked'],
    );
  },
);

test.serial('another user of the tenant, its owner included, finds none of a member’s mail', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api, 'mail-search-owner');
  const member = await tenantOwner(api, 'mail-search-member');
  await addMember(api, owner.token, owner.tenantId, member.email, 'admin');
  const asMember = { ...member, tenantId: owner.tenantId };
  const email = `member-${member.userId}@gmail.test`;
  plain(t.context.google.mailbox(email), 'Secret', 'The axolotl salary review.');
  const { done } = await connect(t.context, asMember, email);
  await waitForSync(api, asMember, done.body.id);
  t.is((await search(t, asMember, 'axolotl')).length, 1);
  t.deepEqual(await search(t, owner, 'axolotl'), []);
  const all = await call(api, 'POST', '/v1/search', { ...as(owner), body: { query: 'axolotl salary', k: 10 } });
  t.deepEqual(all.body.results, []);
  t.is((await call(api, 'POST', `/v1/mail/accounts/${done.body.id}/sync`, as(owner))).status, 404);
});

test.serial('disconnecting removes the account’s mail, documents and blobs by default, or keeps them', async (t) => {
  const { api } = t.context;
  const gone = await syncedMailbox(t, 'mail-gone', (box) => {
    plain(box, 'Gone', 'The tapir invoice.');
  });
  t.is((await search(t, gone.owner, 'tapir')).length, 1);
  const del = await call(api, 'DELETE', `/v1/mail/accounts/${gone.accountId}`, as(gone.owner));
  t.is(del.status, 204);
  t.is((await call(api, 'GET', `/v1/mail/accounts/${gone.accountId}`, as(gone.owner))).status, 404);
  t.deepEqual(await search(t, gone.owner, 'tapir'), []);
  const left = await withTenant(api.pool, { tenantId: gone.owner.tenantId, userId: gone.owner.userId }, (tx) =>
    tx.oneFirst(sql.type(z.object({ count: z.number().int() }))`
      SELECT ((SELECT count(*) FROM emails) + (SELECT count(*) FROM documents WHERE source = 'gmail'))::int AS count
    `),
  );
  t.is(left, 0);

  const kept = await syncedMailbox(t, 'mail-kept', (box) => {
    plain(box, 'Kept', 'The dugong letter.');
  });
  t.is((await call(api, 'DELETE', `/v1/mail/accounts/${kept.accountId}?keep=true`, as(kept.owner))).status, 204);
  const shown = await call(api, 'GET', `/v1/mail/accounts/${kept.accountId}`, as(kept.owner));
  t.like(shown.body, { status: 'disconnected', messageCount: 1 });
  t.is((await search(t, kept.owner, 'dugong')).length, 1);
});
