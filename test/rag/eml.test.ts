// A mail is indexed with every part that carries text: the HTML body when it says more than the
// text part, a forwarded message, and attachments in the supported formats, read by the same
// extractors and located as "attachment X of mail Y". Fixtures: test/fixtures/documents/MAIL-SOURCES.md.
import test from 'ava';
import { DocumentTooLargeError } from '../../rag/errors.ts';
import { extractText } from '../../rag/extract/index.ts';
import { defaultLimits, readFixture } from './fixtures.ts';

const REVIEW = 'attachment %s of mail "Difference engine review"';
const where = (name: string) => REVIEW.replace('%s', name);

const occurrences = (text: string, phrase: string) => text.split(phrase).length - 1;

test('indexes the html-only sentence, the forwarded message and the readable attachments of a mail', async (t) => {
  const document = await extractText({ bytes: await readFixture('review.eml'), filename: 'review.eml' }, defaultLimits);
  t.is(document.format, 'eml');
  const [body, ...attachments] = document.sections;
  t.deepEqual(body?.location, { heading: 'Difference engine review' });
  // Only in the HTML alternative.
  t.true(body!.text.includes('Please bring the column drawings for the carriage mechanism.'));
  // Said by both alternatives, indexed once.
  t.is(occurrences(document.text, 'The review of the difference engine is on Friday.'), 1);
  // The forwarded message/rfc822 (HTML only), which mailparser inlines.
  t.true(body!.text.includes('The compiler trial runs on the Harvard Mark I every Thursday evening.'));

  t.deepEqual(
    attachments.map((section) => section.location),
    [
      { heading: where('notes.txt') },
      { heading: `${where('handbook.docx')} › Employee Handbook` },
      { heading: `${where('handbook.docx')} › Vacation Policy` },
      { heading: `${where('handbook.docx')} › Remote Work` },
    ],
  );
  t.is(attachments[0]?.text, 'Keeper notes: the lighthouse keeper winds the clockwork rotation every dusk.');
  t.true(attachments[2]!.text.includes('twenty-eight days of paid vacation'));
  // The image is in no format Quarry reads: counted, not indexed.
  t.like(document.metadata, { title: 'Difference engine review', attachments: 3, attachmentsIndexed: 2 });
});

test('indexes every alternative part of a mail nested in multiparts (mailparser nested.eml)', async (t) => {
  const document = await extractText(
    { bytes: await readFixture('mailparser-nested.eml'), filename: 'nested.eml' },
    defaultLimits,
  );
  t.true(document.text.includes('Good evening.'));
  t.true(document.text.includes('The footer'));
  t.is(occurrences(document.text, 'Good evening'), 1);
});

/** A mail with a text body and attachments given as [filename, content type, base64 content]. */
function mailWith(subject: string, attachments: readonly (readonly [string, string, string])[]): Buffer {
  const parts = [`--B\r\nContent-Type: text/plain\r\n\r\nSee the attachments.\r\n`];
  for (const [filename, type, content] of attachments) {
    parts.push(
      `--B\r\nContent-Type: ${type}\r\nContent-Disposition: attachment; filename="${filename}"\r\n` +
        `Content-Transfer-Encoding: base64\r\n\r\n${content}\r\n`,
    );
  }
  return Buffer.from(
    `From: ada@quarry.test\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: multipart/mixed; boundary="B"\r\n\r\n${parts.join('')}--B--\r\n`,
  );
}

const base64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

test('skips an attachment that cannot be read, and reads a mail attached as a file', async (t) => {
  const inner = mailWith('Inner', [['keeper.txt', 'text/plain', base64('The foghorn was serviced in March.')]]);
  const mail = mailWith('Outer', [
    ['broken.pdf', 'application/pdf', base64('not a pdf at all')],
    ['inner.eml', 'application/octet-stream', base64(inner)],
  ]);
  const document = await extractText({ bytes: mail, filename: 'outer.eml' }, defaultLimits);
  t.deepEqual(
    document.sections.map((section) => section.location.heading),
    [
      'Outer',
      'attachment inner.eml of mail "Outer" › Inner',
      'attachment inner.eml of mail "Outer" › attachment keeper.txt of mail "Inner"',
    ],
  );
  t.is(document.sections.at(-1)?.text, 'The foghorn was serviced in March.');
  t.like(document.metadata, { attachments: 2, attachmentsIndexed: 1 });
});

test('refuses mails attached inside mails deeper than the nesting limit', async (t) => {
  let mail = mailWith('Level 0', []);
  for (let level = 1; level <= 3; level++) {
    mail = mailWith(`Level ${level}`, [[`level-${level - 1}.eml`, 'application/octet-stream', base64(mail)]]);
  }
  const limits = { ...defaultLimits, maxNestingDepth: 2 };
  const error = await t.throwsAsync(extractText({ bytes: mail, filename: 'deep.eml' }, limits), {
    instanceOf: DocumentTooLargeError,
  });
  t.is(error.limit, 'maxNestingDepth');
  const within = await extractText({ bytes: mail, filename: 'deep.eml' }, { ...defaultLimits, maxNestingDepth: 3 });
  t.true(within.text.includes('Subject: Level 0'));
});
