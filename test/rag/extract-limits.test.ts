// Hostile documents end in a permanent DocumentError naming the bound they hit, never in a
// parser crash (which Temporal would retry) or in the process running out of memory. They go
// through ExtractionSandbox, as the extract activity runs them; its 120 s timeout is the bound
// on each, and any test here that outlived it would see ExtractionTimeoutError instead.
import test from 'ava';
import { loadConfig } from '../../config.ts';
import { CorruptDocumentError, DocumentTooLargeError, ExtractionTimeoutError } from '../../rag/errors.ts';
import { extractText } from '../../rag/extract/index.ts';
import { ExtractionSandbox, IN_PROCESS_MAX_BYTES, sandboxOptions } from '../../rag/extract/sandbox.ts';
import { defaultLimits, readFixture } from './fixtures.ts';
import {
  DOCX_MIME_TYPE,
  emptyParagraphsDocx,
  manyAttachmentsMail,
  nestedHtml,
  nestedJson,
  nestedRtf,
  nestedMultipartMail,
  zipBombDocx,
  zipBombPackage,
} from './hostile.ts';

const options = sandboxOptions(loadConfig({}));
const sandbox = new ExtractionSandbox(options);

test('the default limits are the documented ones', (t) => {
  t.deepEqual(options, {
    limits: {
      maxTextBytes: 64 * 1024 * 1024,
      maxSections: 20_000,
      maxArchiveBytes: 256 * 1024 * 1024,
      maxNestingDepth: 512,
      maxMailParts: 1000,
    },
    heapMb: 512,
    timeoutMs: 120_000,
    concurrency: 2,
  });
});

test('refuses html nested 100k elements deep as too large', async (t) => {
  const error = await t.throwsAsync(sandbox.extract({ bytes: nestedHtml(100_000), filename: 'deep.html' }), {
    instanceOf: DocumentTooLargeError,
  });
  t.is(error.code, 'document_too_large');
  t.false(error.retryable);
  t.is(error.limit, 'maxNestingDepth');
  t.is(error.message, 'The html document "deep.html" is too large to process: it nests deeper than 512 levels');
});

test('refuses rtf nested 100k groups deep as too large, and reads one as deep as the limit allows', async (t) => {
  const error = await t.throwsAsync(sandbox.extract({ bytes: nestedRtf(100_000), filename: 'deep.rtf' }), {
    instanceOf: DocumentTooLargeError,
  });
  t.is(error.message, 'The rtf document "deep.rtf" is too large to process: it nests deeper than 512 levels');
  t.is((await sandbox.extract({ bytes: nestedRtf(512), filename: 'deep.rtf' })).text, 'deep text');
  const over = await t.throwsAsync(sandbox.extract({ bytes: nestedRtf(513), filename: 'deep.rtf' }), {
    instanceOf: DocumentTooLargeError,
  });
  t.is(over.limit, 'maxNestingDepth');
});

test('extracts html nested as deep as the limit allows', async (t) => {
  // <html> and <body> are two of the 512 levels.
  const document = await sandbox.extract({ bytes: nestedHtml(510), filename: 'deep.html' });
  t.is(document.text, 'deep text');
});

test('refuses json nested 100k levels deep as too large', async (t) => {
  const error = await t.throwsAsync(sandbox.extract({ bytes: nestedJson(100_000), filename: 'deep.json' }), {
    instanceOf: DocumentTooLargeError,
  });
  t.is(error.message, 'The json document "deep.json" is too large to process: it nests deeper than 512 levels');
});

test('extracts json nested as deep as the limit allows', async (t) => {
  const document = await sandbox.extract({ bytes: nestedJson(512), filename: 'deep.json' });
  t.is(document.text, `[0]${'[0]'.repeat(511)}: deep`);
});

const TOO_MANY_PARTS =
  'is too large to process: max allowed child nodes exceeded (a mail may have 1000 MIME parts, 1 MiB of headers each)';

test('refuses a mail of 2,000 nested multiparts as too large', async (t) => {
  const error = await t.throwsAsync(sandbox.extract({ bytes: nestedMultipartMail(2000), filename: 'nested.eml' }), {
    instanceOf: DocumentTooLargeError,
  });
  t.is(error.limit, 'maxMailParts');
  t.is(error.message, `The eml document "nested.eml" ${TOO_MANY_PARTS}`);
});

test('refuses a mail with 10,000 attachments as too large', async (t) => {
  const error = await t.throwsAsync(
    sandbox.extract({ bytes: manyAttachmentsMail(10_000), filename: 'attachments.eml' }),
    { instanceOf: DocumentTooLargeError },
  );
  t.is(error.message, `The eml document "attachments.eml" ${TOO_MANY_PARTS}`);
});

test('extracts a mail with attachments and nesting within the limit', async (t) => {
  const attachments = await sandbox.extract({ bytes: manyAttachmentsMail(900), filename: 'attachments.eml' });
  t.is(attachments.metadata.attachments, 900);
  const nested = await sandbox.extract({ bytes: nestedMultipartMail(400), filename: 'nested.eml' });
  t.true(nested.text.endsWith('\n\nhello'));
});

test('refuses a docx that inflates past the archive limit, before mammoth unpacks it', async (t) => {
  const bomb = zipBombDocx(300);
  t.true(bomb.length < 400 * 1024);
  const error = await t.throwsAsync(sandbox.extract({ bytes: bomb, filename: 'bomb.docx', mimeType: DOCX_MIME_TYPE }), {
    instanceOf: DocumentTooLargeError,
  });
  t.is(error.limit, 'maxArchiveBytes');
  t.is(error.message, 'The docx document "bomb.docx" is too large to process: it inflates to more than 256 MiB');
});

for (const format of ['xlsx', 'ods', 'pptx', 'odt'] as const) {
  test(`refuses a ${format} that inflates past the archive limit, before it is parsed`, async (t) => {
    const bomb = zipBombPackage(format, 300);
    t.true(bomb.length < 400 * 1024);
    const error = await t.throwsAsync(sandbox.extract({ bytes: bomb, filename: `bomb.${format}` }), {
      instanceOf: DocumentTooLargeError,
    });
    t.is(error.limit, 'maxArchiveBytes');
    t.is(
      error.message,
      `The ${format} document "bomb.${format}" is too large to process: it inflates to more than 256 MiB`,
    );
  });
}

test('counts the bytes a docx entry really inflates to, not the size its headers declare', async (t) => {
  const error = await t.throwsAsync(
    sandbox.extract({ bytes: zipBombDocx(300, { declaredSize: 1000 }), filename: 'liar.docx' }),
    {
      instanceOf: DocumentTooLargeError,
    },
  );
  t.is(error.limit, 'maxArchiveBytes');
});

test('a docx of 2M empty paragraphs runs out of its thread memory, not the process', async (t) => {
  const bytes = await emptyParagraphsDocx(2_000_000);
  t.true(bytes.length < 64 * 1024);
  const error = await t.throwsAsync(sandbox.extract({ bytes, filename: 'empty.docx' }), {
    instanceOf: DocumentTooLargeError,
  });
  t.is(error.limit, 'heapMb');
  t.is(
    error.message,
    'The docx document "empty.docx" is too large to process: extracting it needs more than 512 MiB of memory',
  );
  // The process carries on: the next document extracts as usual.
  const handbook = await sandbox.extract({ bytes: await readFixture('handbook.docx'), filename: 'handbook.docx' });
  t.true(handbook.text.includes('twenty-eight days of paid vacation'));
});

test('an extraction that outlives its time is ended and refused as a timeout', async (t) => {
  const impatient = new ExtractionSandbox({ ...options, timeoutMs: 50 });
  const error = await t.throwsAsync(
    impatient.extract({ bytes: await readFixture('report.pdf'), filename: 'report.pdf' }),
    { instanceOf: ExtractionTimeoutError },
  );
  t.is(error.code, 'extraction_timeout');
  t.false(error.retryable);
  t.is(error.message, 'Extracting the pdf document "report.pdf" took longer than 0.05 s');
});

test('small plain text and Markdown are extracted in the calling thread, larger text in a thread of its own', async (t) => {
  // A millisecond is less than any thread takes to start: only an extraction that starts no
  // thread can finish within it.
  const instant = new ExtractionSandbox({ ...options, timeoutMs: 1 });
  const note = await instant.extract({ bytes: Buffer.from('A short abstract.\n'), filename: 'note.txt' });
  t.is(note.text, 'A short abstract.');
  const markdown = await instant.extract({ bytes: Buffer.from('# Title\n\nBody text.\n'), filename: 'a.md' });
  t.true(markdown.text.includes('Body text.'));
  // Past the bound (and for every other format) the thread and its limits apply as before.
  const large = Buffer.alloc(IN_PROCESS_MAX_BYTES + 1, 'word ');
  await t.throwsAsync(instant.extract({ bytes: large, filename: 'large.txt' }), { instanceOf: ExtractionTimeoutError });
  await t.throwsAsync(instant.extract({ bytes: Buffer.from('{"a": 1}'), filename: 'a.json' }), {
    instanceOf: ExtractionTimeoutError,
  });
  // The limits hold in the calling thread too.
  const strict = new ExtractionSandbox({ ...options, limits: { ...options.limits, maxTextBytes: 1024 } });
  await t.throwsAsync(strict.extract({ bytes: Buffer.alloc(2048, 'a'), filename: 'big.txt' }), {
    instanceOf: DocumentTooLargeError,
  });
  // An aborted extraction does not run.
  const aborted = AbortSignal.abort(new Error('shutting down'));
  await t.throwsAsync(sandbox.extract({ bytes: Buffer.from('text'), filename: 'x.txt' }, aborted), {
    message: 'shutting down',
  });
});

test('refuses text larger than the text limit, and more sections than the section limit', async (t) => {
  const text = await t.throwsAsync(
    extractText({ bytes: Buffer.alloc(2048, 'a'), filename: 'big.txt' }, { ...defaultLimits, maxTextBytes: 1024 }),
    { instanceOf: DocumentTooLargeError },
  );
  t.is(text.message, 'The txt document "big.txt" is too large to process: its text is larger than 1 KiB');
  const markdown = Array.from({ length: 11 }, (_, index) => `# Part ${index}\n\nBody ${index}`).join('\n\n');
  const sections = await t.throwsAsync(
    extractText({ bytes: Buffer.from(markdown), filename: 'parts.md' }, { ...defaultLimits, maxSections: 10 }),
    { instanceOf: DocumentTooLargeError },
  );
  t.is(sections.message, 'The md document "parts.md" is too large to process: it has more than 10 sections');
});

test('stops flattening json once its text passes the limit', async (t) => {
  // Every line repeats its path, so 100 levels of long keys over 10k leaves make ~100 MB of text.
  let json = `[${'0,'.repeat(9_999)}0]`;
  for (let level = 0; level < 100; level += 1) json = `{"${'k'.repeat(100)}":${json}}`;
  const error = await t.throwsAsync(extractText({ bytes: Buffer.from(json), filename: 'paths.json' }, defaultLimits), {
    instanceOf: DocumentTooLargeError,
  });
  t.is(error.limit, 'maxTextBytes');
});

test('an unexpected parser exception is a permanent corrupt-document error', async (t) => {
  // With the depth check out of the way, html-to-text's recursion overflows the stack.
  const limits = { ...defaultLimits, maxNestingDepth: 1_000_000 };
  const error = await t.throwsAsync(extractText({ bytes: nestedHtml(20_000), filename: 'deep.html' }, limits), {
    instanceOf: CorruptDocumentError,
  });
  t.false(error.retryable);
  t.is(error.message, 'Corrupt html document "deep.html": Maximum call stack size exceeded');
});

test('drops NUL characters and lone surrogates from text, headings and metadata', async (t) => {
  const json = await sandbox.extract({
    bytes: Buffer.from(JSON.stringify({ 'ke\u0000y': 'val\u0000ue', broken: 'half \ud800 pair' })),
    filename: 'nul.json',
  });
  t.is(json.text, 'key: value\nbroken: half \ufffd pair');

  const mail = Buffer.from(
    'Subject: =?utf-8?Q?Bud=00get?=\r\nFrom: ada@quarry.test\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbrass=00 gears\r\n',
  );
  const eml = await sandbox.extract({ bytes: mail, filename: 'nul.eml' });
  t.is(eml.text, 'Subject: Budget\nFrom: ada@quarry.test\n\nbrass gears');
  t.deepEqual(eml.sections[0]?.location, { heading: 'Budget' });
  t.is(eml.metadata.title, 'Budget');
});
