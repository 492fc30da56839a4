// Mail in /v1/search, /v1/ask and /v1/stats: a member's synced mail is found beside the tenant's
// documents, or alone with `filters.source: 'email'`, each hit naming its email (subject, sender,
// date, a Gmail link) or the attachment it was read from; no other member, the tenant's owner
// included, finds or counts any of it.
import anyTest, { type TestFn } from 'ava';
import { addMember, call, tenantOwner } from '../api/harness.ts';
import { postText, settled } from '../documents/harness.ts';
import { as, composeMessage, connect, startMail, waitForSync, type MailHarness, type Owner } from './harness.ts';

interface Context {
  readonly mail: MailHarness;
  readonly owner: Owner;
  readonly member: Owner;
  readonly address: string;
  readonly plainId: string;
  readonly withAttachmentId: string;
}

const test = anyTest as TestFn<Context>;

const SUBJECT = 'Zeppelin hangar budget';
const ATTACHED = 'Zeppelin mooring notes';
// Each part long enough to be a chunk of its own (a fifth of CHUNK_SIZE), so the attachment is
// a hit apart from the mail that carries it.
const MOORING =
  'Mooring masts hold the zeppelin overnight. The ground crew walks the ship to the mast at dusk, ' +
  'secures the nose cone, and watches the wind through the night so that the hull swings freely ' +
  'around the mast without striking the hangar doors or the tall poplars along the eastern field.';
const COVER =
  'See the attached notes on the mooring arrangements. They cover the mast, the crew rota for the ' +
  'winter months, and what the insurers asked us to change after the October inspection of the ' +
  'hangar. Please read them before the meeting on Thursday and bring any questions you may have.';

test.before(async (t) => {
  const mail = await startMail();
  const { api, google } = mail;
  const owner = await tenantOwner(api, 'mail-hits-owner');
  const joined = await tenantOwner(api, 'mail-hits-member');
  await addMember(api, owner.token, owner.tenantId, joined.email, 'member');
  const member = { ...joined, tenantId: owner.tenantId };
  const address = `hits-${member.userId}@gmail.test`;
  const mailbox = google.mailbox(address);
  const plain = mailbox.add({
    raw: composeMessage({
      subject: SUBJECT,
      from: 'Ada Lovelace <ada@example.test>',
      text: 'The zeppelin hangar needs a new roof before winter.',
      date: new Date('2026-11-30T09:00:00Z'),
    }),
  });
  const withAttachment = mailbox.add({
    raw: composeMessage({
      subject: ATTACHED,
      from: 'Charles Babbage <charles@example.test>',
      text: COVER,
      date: new Date('2026-12-01T15:30:00Z'),
      attachments: [{ filename: 'mooring.txt', contentType: 'text/plain', content: MOORING }],
    }),
    threadId: plain.threadId,
  });
  const { done } = await connect(mail, member, address);
  if (done.status !== 200) throw new Error(`callback failed: ${JSON.stringify(done.body)}`);
  await waitForSync(api, member, done.body.id);
  // A document of the tenant's that says the same word.
  const shared = await postText(api, owner, { title: 'Airship field guide', text: 'A zeppelin is a rigid airship.' });
  await settled(api, owner, shared.body.id);
  t.context = { mail, owner, member, address, plainId: plain.id, withAttachmentId: withAttachment.id };
});

test.after.always(async (t) => {
  await t.context.mail?.close();
});

interface Hit {
  readonly title: string;
  readonly text: string;
  readonly source: string;
  readonly location: { heading: string | null };
  readonly mail: {
    subject: string;
    sender: string | null;
    sentAt: string | null;
    gmailMessageId: string;
    gmailThreadId: string;
    address: string | null;
    link: string;
    attachment: string | null;
    label: string;
  } | null;
}

async function search(t: { context: Context }, who: Owner, body: Record<string, unknown>): Promise<Hit[]> {
  const reply = await call(t.context.mail.api, 'POST', '/v1/search', {
    ...as(who),
    body: { query: 'zeppelin', k: 10, ...body },
  });
  if (reply.status !== 200) throw new Error(`search failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.results as Hit[];
}

const sources = (hits: readonly Hit[]) => hits.map((hit) => hit.source).sort();

for (const mode of ['lexical', 'dense', 'hybrid'] as const) {
  test(`a ${mode} mail hit carries its subject, sender, date and Gmail link`, async (t) => {
    const { member, address, plainId, withAttachmentId } = t.context;
    const hits = await search(t, member, { mode, filters: { source: 'email' } });
    t.deepEqual(sources(hits), ['gmail', 'gmail', 'gmail']);
    const own = hits.find((hit) => hit.mail?.subject === SUBJECT && hit.mail.attachment === null);
    t.deepEqual(own?.mail, {
      subject: SUBJECT,
      sender: '"Ada Lovelace" <ada@example.test>',
      sentAt: '2026-11-30T09:00:00.000Z',
      gmailMessageId: plainId,
      gmailThreadId: plainId,
      address,
      link: `https://mail.google.com/mail/u/${encodeURIComponent(address)}/#all/${plainId}`,
      attachment: null,
      label: `mail "${SUBJECT}" from "Ada Lovelace" <ada@example.test>, 2026-11-30`,
    });
    const attachment = hits.find((hit) => hit.mail?.attachment !== null);
    t.like(attachment, {
      title: ATTACHED,
      text: MOORING,
      mail: {
        subject: ATTACHED,
        sender: '"Charles Babbage" <charles@example.test>',
        sentAt: '2026-12-01T15:30:00.000Z',
        gmailMessageId: withAttachmentId,
        gmailThreadId: plainId,
        attachment: 'mooring.txt',
        label: `attachment mooring.txt of mail "${ATTACHED}"`,
        link: `https://mail.google.com/mail/u/${encodeURIComponent(address)}/#all/${withAttachmentId}`,
      },
    });
  });
}

test('without a source filter mail and documents are searched together', async (t) => {
  const hits = await search(t, t.context.member, { mode: 'lexical' });
  t.deepEqual(sources(hits), ['gmail', 'gmail', 'gmail', 'text']);
  t.is(hits.find((hit) => hit.source === 'text')?.mail, null);
});

test('source "documents" leaves mail out, and source with sources must both hold', async (t) => {
  const { member } = t.context;
  t.deepEqual(sources(await search(t, member, { mode: 'lexical', filters: { source: 'documents' } })), ['text']);
  t.deepEqual(sources(await search(t, member, { mode: 'lexical', filters: { sources: ['email', 'text'] } })), [
    'gmail',
    'gmail',
    'gmail',
    'text',
  ]);
  t.deepEqual(await search(t, member, { filters: { source: 'email', sources: ['documents'] } }), []);
  t.deepEqual(sources(await search(t, member, { mode: 'lexical', filters: { sources: ['gmail'] } })), [
    'gmail',
    'gmail',
    'gmail',
  ]);
});

test('an unknown source is refused with the field named', async (t) => {
  const reply = await call(t.context.mail.api, 'POST', '/v1/search', {
    ...as(t.context.member),
    body: { query: 'zeppelin', filters: { source: 'mail' } },
  });
  t.is(reply.status, 400);
  t.is(reply.body.error.code, 'validation_failed');
  t.deepEqual(
    reply.body.error.details.issues.map((issue: { path: string }) => issue.path),
    ['body.filters.source'],
  );
});

test('the tenant’s owner finds none of a member’s mail, with any filter', async (t) => {
  const { owner } = t.context;
  for (const mode of ['lexical', 'dense', 'hybrid'] as const) {
    t.deepEqual(sources(await search(t, owner, { mode })), ['text'], mode);
    t.deepEqual(await search(t, owner, { mode, filters: { source: 'email' } }), [], mode);
  }
});

test('an answer from mail cites the email and the attachment by name', async (t) => {
  const { mail, member, owner } = t.context;
  const reply = await call(mail.api, 'POST', '/v1/ask', {
    ...as(member),
    body: { question: 'Where is the zeppelin moored overnight?', filters: { source: 'email' } },
  });
  t.is(reply.status, 200);
  const labels = reply.body.context.map((chunk: { mail: { label: string } }) => chunk.mail.label).sort();
  t.deepEqual(labels, [
    `attachment mooring.txt of mail "${ATTACHED}"`,
    `mail "${SUBJECT}" from "Ada Lovelace" <ada@example.test>, 2026-11-30`,
    `mail "${ATTACHED}" from "Charles Babbage" <charles@example.test>, 2026-12-01`,
  ]);
  t.true(reply.body.citations.length > 0);
  for (const citation of reply.body.citations) t.regex(citation.mail.label, /mail "Zeppelin/);
  // The owner asking the same is answered from the shared document alone.
  const theirs = await call(mail.api, 'POST', '/v1/ask', {
    ...as(owner),
    body: { question: 'Where is the zeppelin moored overnight?' },
  });
  t.deepEqual(
    theirs.body.context.map((chunk: { title: string; mail: unknown }) => [chunk.title, chunk.mail]),
    [['Airship field guide', null]],
  );
});
test('stats count the caller’s own emails and attachments, and nobody else’s', async (t) => {
  const { mail, member, owner } = t.context;
  const mine = await call(mail.api, 'GET', '/v1/stats', as(member));
  t.deepEqual(mine.body.mail, { accounts: 1, emails: 2, attachments: 1, attachmentsIndexed: 1 });
  const theirs = await call(mail.api, 'GET', '/v1/stats', as(owner));
  t.deepEqual(theirs.body.mail, { accounts: 0, emails: 0, attachments: 0, attachmentsIndexed: 0 });
  // The owner's documents count the shared one only; the member's include their two mails.
  t.is(theirs.body.documents.total, 1);
  t.is(mine.body.documents.total, 3);
});
