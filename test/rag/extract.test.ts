import test from 'ava';
import { CorruptDocumentError, DocumentError, EmptyDocumentError, UnsupportedFormatError } from '../../rag/errors.ts';
import { extractText } from '../../rag/extract/index.ts';
import {
  defaultLimits,
  extractFixture,
  failingFixtures,
  fixturePath,
  formatFixtures,
  readFixture,
} from './fixtures.ts';

test('extracts plain text as one section', async (t) => {
  const document = await extractText({ path: fixturePath('notes.txt'), filename: 'notes.txt' }, defaultLimits);
  t.is(document.format, 'txt');
  t.is(
    document.text,
    'Harbour lighthouse maintenance log.\n\n' +
      'The lighthouse keeper polishes the Fresnel lens every Tuesday morning.\n' +
      'The foghorn compressor was serviced in March after it failed during a storm.',
  );
  t.deepEqual(document.sections, [{ text: document.text, location: {}, start: 0, end: 184 }]);
});

test('keeps markdown headings as section locations, ignoring # lines inside code fences', async (t) => {
  const document = await extractFixture('guide.md');
  t.is(document.format, 'md');
  t.deepEqual(
    document.sections.map((section) => section.location),
    [{ heading: 'Sourdough Guide' }, { heading: 'Starter' }, { heading: 'Baking' }],
  );
  t.is(document.sections[2]?.text, '## Baking\n\nBake the loaf at 230 degrees for forty minutes with steam.');
  t.true(document.sections[1]?.text.includes('# not a heading: this line is inside a code fence'));
  t.deepEqual(document.metadata, { title: 'Sourdough Guide' });
});

test('renders the rows of a markdown pipe table as "header: value" pairs, leaving fenced code alone', async (t) => {
  const document = await extractFixture('cli-options.md');
  t.is(
    document.sections[1]?.text,
    [
      '## Options',
      '',
      'Option: `--delete`; Default: off; Description: Remove files that are gone from the source.',
      'Option: `--exclude PATTERN`; Description: Skip paths matching `PATTERN`.',
      'Option: `--bwlimit RATE`; Default: 0; Description: Cap bandwidth; `0` means no limit.',
      'Option: `--filter a|b`; Description: Rules joined with a pipe.',
      '',
      'Options may be combined.',
      '',
      '```text',
      '| not | a table |',
      '| --- | ------- |',
      '| in  | a fence |',
      '```',
    ].join('\n'),
  );
});

test('extracts html body text with headings and the document title, dropping scripts and styles', async (t) => {
  const document = await extractFixture('orchard.html');
  t.is(document.format, 'html');
  t.is(
    document.text,
    'Orchard Pruning Notes\n\nPrune the apple trees in late winter, before the buds open.\n\n' +
      'Pear trees\n\nPear trees need a lighter cut & more patience.',
  );
  t.deepEqual(
    document.sections.map((section) => section.location),
    [{ heading: 'Orchard Pruning Notes' }, { heading: 'Pear trees' }],
  );
  t.deepEqual(document.metadata, { title: 'Orchard Pruning Notes' });
});

test('extracts pdf text page by page', async (t) => {
  const document = await extractFixture('report.pdf');
  t.is(document.format, 'pdf');
  t.deepEqual(
    document.sections.map(({ text, location }) => ({ text, location })),
    [
      {
        text: 'Glacier Survey Report\nThe survey team measured the Vatnajokull glacier retreat in spring.',
        location: { page: 1 },
      },
      {
        text: 'Meltwater findings\nMeltwater discharge doubled compared with the previous decade.',
        location: { page: 2 },
      },
    ],
  );
  t.deepEqual(document.metadata, { title: 'Glacier Survey Report', author: 'Quarry fixtures', pages: 2 });
});

test('detects a pdf by its leading bytes whatever its name', async (t) => {
  const document = await extractText({ bytes: await readFixture('report.pdf'), filename: 'upload.bin' }, defaultLimits);
  t.is(document.format, 'pdf');
});

test('extracts docx paragraphs with word heading styles as section headings', async (t) => {
  const document = await extractFixture('handbook.docx');
  t.is(document.format, 'docx');
  t.deepEqual(
    document.sections.map(({ text, location }) => ({ text, location })),
    [
      { text: 'Employee Handbook\n\nWelcome to the Quarry cooperative.', location: { heading: 'Employee Handbook' } },
      {
        text: 'Vacation Policy\n\nEvery employee receives twenty-eight days of paid vacation each year.',
        location: { heading: 'Vacation Policy' },
      },
      {
        text: 'Remote Work\n\nRemote work from the mountain cabin is allowed on Fridays.',
        location: { heading: 'Remote Work' },
      },
    ],
  );
  t.deepEqual(document.metadata, { title: 'Employee Handbook' });
});

test('renders each csv row as a line of "header: value" pairs after its row number, skipping empty cells', async (t) => {
  const document = await extractFixture('inventory.csv');
  t.is(document.format, 'csv');
  t.is(
    document.text,
    'Row 2 — sku: A-100; name: Copper kettle; quantity: 12; warehouse: Rotterdam\n' +
      'Row 3 — sku: B-200; name: Walnut cutting board, large; quantity: 4; warehouse: Lyon\n' +
      'Row 4 — sku: C-300; name: Linen apron; warehouse: Lyon',
  );
  t.deepEqual(document.metadata, { rows: 3, columns: 4 });
});

test('flattens json into "path: value" lines', async (t) => {
  const document = await extractFixture('catalog.json');
  t.is(document.format, 'json');
  t.is(
    document.text,
    [
      'store: Quarry Tea House',
      'open: true',
      'products[0].name: Smoked lapsang souchong',
      'products[0].price: 14.5',
      'products[0].tags[0]: black',
      'products[0].tags[1]: smoky',
      'products[1].name: Jasmine pearls',
      'products[1].price: 21',
      'products[1].origin.province: Fujian',
    ].join('\n'),
  );
});

test('separates the records of a top-level json array with blank lines', async (t) => {
  const bytes = Buffer.from(JSON.stringify([{ name: 'Ada' }, { name: 'Grace', langs: ['COBOL'] }]));
  const document = await extractText({ bytes, filename: 'people.json' }, defaultLimits);
  t.is(document.text, '[0].name: Ada\n\n[1].name: Grace\n[1].langs[0]: COBOL');
});

test('extracts an eml with its headers, text body and subject as heading', async (t) => {
  const document = await extractFixture('budget.eml');
  t.is(document.format, 'eml');
  t.is(
    document.text,
    'Subject: Analytical engine budget\n' +
      'From: "Ada Lovelace" <ada@quarry.test>\n' +
      'To: "Charles Babbage" <charles@quarry.test>\n' +
      'Cc: "Finance" <finance@quarry.test>\n' +
      'Date: 2025-03-04T09:30:00.000Z\n\n' +
      'Charles,\n\nThe analytical engine budget needs another 300 pounds for brass gears.\n\nAda',
  );
  t.deepEqual(document.sections[0]?.location, { heading: 'Analytical engine budget' });
  t.deepEqual(document.metadata, {
    title: 'Analytical engine budget',
    from: '"Ada Lovelace" <ada@quarry.test>',
    to: '"Charles Babbage" <charles@quarry.test>',
    date: '2025-03-04T09:30:00.000Z',
    messageId: '<budget-2025@quarry.test>',
    attachments: 0,
  });
});

test('falls back to the html body of an eml without a text part', async (t) => {
  const document = await extractFixture('newsletter.eml');
  t.is(
    document.text,
    'Subject: Spring newsletter\nFrom: "Newsletter" <news@quarry.test>\nTo: ada@quarry.test\n' +
      'Date: 2025-03-05T10:00:00.000Z\n\nSpring newsletter\n\nThe beekeeping workshop moves to April.',
  );
});

test('section offsets point into the document text', async (t) => {
  for (const filename of ['guide.md', 'orchard.html', 'report.pdf', 'handbook.docx']) {
    const document = await extractFixture(filename);
    for (const section of document.sections) t.is(document.text.slice(section.start, section.end), section.text);
  }
});

test('uses the media type when the file name has no known extension', async (t) => {
  const document = await extractText(
    {
      bytes: Buffer.from('# Title\n\nBody'),
      filename: 'upload',
      mimeType: 'text/markdown; charset=utf-8',
    },
    defaultLimits,
  );
  t.is(document.format, 'md');
});

test('rejects a corrupt pdf as a permanent corrupt-document error', async (t) => {
  const error = await t.throwsAsync(extractFixture('corrupt.pdf'), { instanceOf: CorruptDocumentError });
  t.is(error.code, 'corrupt_document');
  t.false(error.retryable);
  t.is(error.message, 'Corrupt pdf document "corrupt.pdf": Invalid PDF structure.');
});

test('rejects a corrupt docx as a permanent corrupt-document error', async (t) => {
  const error = await t.throwsAsync(extractFixture('corrupt.docx'), { instanceOf: CorruptDocumentError });
  t.is(error.code, 'corrupt_document');
  t.is(error.message, 'Corrupt docx document "corrupt.docx": Corrupted zip: can\'t find end of central directory');
});

test('rejects a file named pdf that is not one', async (t) => {
  const error = await t.throwsAsync(extractText({ bytes: Buffer.from('hello'), filename: 'fake.pdf' }, defaultLimits), {
    instanceOf: CorruptDocumentError,
  });
  t.is(error.message, 'Corrupt pdf document "fake.pdf": the file does not start with %PDF-');
});

test('rejects malformed json and csv as corrupt', async (t) => {
  const json = await t.throwsAsync(
    extractText({ bytes: Buffer.from('{"a": ['), filename: 'broken.json' }, defaultLimits),
    {
      instanceOf: CorruptDocumentError,
    },
  );
  t.is(json.format, 'json');
  const csv = await t.throwsAsync(
    extractText({ bytes: Buffer.from('a,b\n"unclosed,1\n'), filename: 'broken.csv' }, defaultLimits),
    {
      instanceOf: CorruptDocumentError,
    },
  );
  t.is(csv.format, 'csv');
});

test('rejects binary bytes under a text name as corrupt', async (t) => {
  const error = await t.throwsAsync(
    extractText({ bytes: Buffer.from([0x00, 0x01, 0x02, 0x00, 0x41, 0x00, 0x00]), filename: 'x.txt' }, defaultLimits),
    {
      instanceOf: CorruptDocumentError,
    },
  );
  t.is(error.reason, 'the file holds binary data');
});

test('rejects an unsupported extension as a permanent unsupported-format error', async (t) => {
  const error = await t.throwsAsync(extractFixture('image.png', 'image/png'), { instanceOf: UnsupportedFormatError });
  t.true(error instanceof DocumentError);
  t.is(error.code, 'unsupported_format');
  t.false(error.retryable);
  t.is(error.detectedType, 'image/png');
  t.is(
    error.message,
    'Unsupported document format for "image.png" (image/png; its bytes are image/png): ' +
      'expected txt, md, html, pdf, docx, xlsx, ods, pptx, odt, rtf, csv, json or eml',
  );
});

test('rejects a document without text as empty', async (t) => {
  const error = await t.throwsAsync(extractFixture('blank.txt'), { instanceOf: EmptyDocumentError });
  t.is(error.code, 'empty_document');
  t.is(error.message, 'The txt document "blank.txt" contains no extractable text');
});

test('rejects a mail file without mail headers as corrupt', async (t) => {
  const error = await t.throwsAsync(
    extractText({ bytes: Buffer.from('just some words'), filename: 'x.eml' }, defaultLimits),
    {
      instanceOf: CorruptDocumentError,
    },
  );
  t.is(error.reason, 'no Subject, From or Date header was found');
});

test('every format fixture yields its phrase, and every failing fixture its permanent code', async (t) => {
  for (const fixture of formatFixtures) {
    const document = await extractFixture(fixture.filename, fixture.mimeType);
    t.is(document.format, fixture.format);
    t.true(document.text.includes(fixture.phrase), fixture.filename);
  }
  for (const fixture of failingFixtures) {
    const error = await t.throwsAsync(extractFixture(fixture.filename));
    t.true(error instanceof DocumentError && error.code === fixture.code, fixture.filename);
  }
});
