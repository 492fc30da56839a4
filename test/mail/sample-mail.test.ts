// The stand-in's sample mailbox (devtools/google-stand-in/sample-mail.ts), which the mail bench
// and `npm run dev -- --demo-mail` serve: the same seed gives the same mails, written anew on each
// read and never kept, and each mail holds the attachments its plan names, as mailparser reads them.
import test from 'ava';
import { simpleParser } from 'mailparser';
import { GmailMailbox } from '../../devtools/google-stand-in/gmail-mailbox.ts';
import { fillSampleMailbox } from '../../devtools/google-stand-in/sample-mail.ts';

const MIME_TYPES = {
  txt: 'text/plain',
  html: 'text/html',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  png: 'image/png',
  zip: 'application/zip',
} as const;

test('the same seed gives the same mailbox, each mail written anew on each read', (t) => {
  const fill = (seed: number) => fillSampleMailbox(new GmailMailbox('sample@gmail.test'), 60, seed);
  const [first, again, other] = [fill(7), fill(7), fill(8)];
  t.deepEqual(
    first.map(({ message }) => [message.id, message.threadId, message.labelIds, message.internalDate]),
    again.map(({ message }) => [message.id, message.threadId, message.labelIds, message.internalDate]),
  );
  for (const [i, { message }] of first.entries()) {
    const raw = message.raw;
    t.not(raw, message.raw, 'a fresh buffer on each read');
    t.true(raw.equals(message.raw));
    t.true(raw.equals(again[i]!.message.raw));
  }
  t.false(first[0]!.message.raw.equals(other[0]!.message.raw));
  // Replies share the thread of the mail before them, under its subject.
  const replies = first.filter(({ plan }) => plan.reply);
  t.true(replies.length > 0);
  for (const { message, plan } of replies) {
    const previous = first[plan.index - 1]!;
    t.is(message.threadId, previous.message.threadId);
    t.is(plan.subject.replace(/^Re: /, ''), previous.plan.subject.replace(/^Re: /, ''));
  }
});

test('a sample mail holds the attachments its plan names, with their types', async (t) => {
  const mails = fillSampleMailbox(new GmailMailbox('sample@gmail.test'), 200, 1);
  const withAttachments = mails.filter(({ plan }) => plan.attachments.length > 0);
  const kinds = new Set(withAttachments.flatMap(({ plan }) => plan.attachments.map((part) => part.kind)));
  t.deepEqual([...kinds].sort(), ['docx', 'html', 'pdf', 'png', 'txt', 'zip']);
  for (const { message, plan } of mails) {
    const parsed = await simpleParser(message.raw);
    t.is(parsed.subject, plan.subject);
    t.true((parsed.text ?? '').startsWith('Hello,'));
    t.deepEqual(
      parsed.attachments.map((part) => [part.filename, part.contentType]),
      plan.attachments.map((part) => [part.filename, MIME_TYPES[part.kind]]),
    );
  }
});
