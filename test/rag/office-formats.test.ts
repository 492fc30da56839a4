// The office formats beyond docx, each on files from a public test corpus
// (test/fixtures/documents/SOURCES.md), with where each piece of text sits kept.
import JSZip from 'jszip';
import test from 'ava';
import { EncryptedDocumentError } from '../../rag/errors.ts';
import { extractText } from '../../rag/extract/index.ts';
import { defaultLimits, readFixture } from './fixtures.ts';

const extractFixture = async (filename: string, mimeType?: string) =>
  extractText({ bytes: await readFixture(filename), filename, mimeType }, defaultLimits);

test('indexes xlsx rows with their header names, located by sheet and rows', async (t) => {
  const document = await extractFixture('inventory-table.xlsx');
  t.is(document.format, 'xlsx');
  t.deepEqual(
    document.sections.map(({ text, location }) => ({ text, location })),
    [
      {
        text:
          'Item: 1; Type: Apple; Quantity: 50\nItem: 2; Type: Banana; Quantity: 200\n' +
          'Item: 3; Type: Orange; Quantity: 60\nItem: 4; Type: Pear; Quantity: 100',
        location: { heading: 'Sheet1, rows 2–5' },
      },
    ],
  );
  t.deepEqual(document.metadata, { author: 'John', sheets: 1 });
});

test('numbers ods rows as the sheet does, whatever row each sheet starts at', async (t) => {
  const document = await extractFixture('number-rows-repeated.ods', 'application/vnd.oasis.opendocument.spreadsheet');
  t.is(document.format, 'ods');
  t.deepEqual(
    document.sections.map((section) => section.location.heading),
    ['Sheet1, rows 2–8', 'Sheet2, rows 3–9', 'Sheet3, rows 4–10'],
  );
  // Empty rows are skipped, repeated ones (table:number-rows-repeated) kept.
  t.is(document.sections[0]!.text, 'A: C; B: D\nA: C; B: D\nA: C; B: D\nA: C; B: D');
  t.deepEqual(document.metadata, { sheets: 3 });
});

test('a password-protected ods is refused as encrypted', async (t) => {
  const error = await t.throwsAsync(extractFixture('password.ods'), { instanceOf: EncryptedDocumentError });
  t.is(error.message, 'The ods document "password.ods" is password-protected');
});

test('reads pptx slides in order, each located by its number and title, with its speaker notes', async (t) => {
  const document = await extractFixture('sample-show.pptx');
  t.is(document.format, 'pptx');
  t.deepEqual(
    document.sections.map(({ text, location }) => ({ text, location })),
    [
      {
        text:
          'Title of the first slide\nSubtitle of the first slide\nThis bit is in italic green\n' +
          'Notes: I am the notes of the first slide',
        location: { page: 1, heading: 'Title of the first slide' },
      },
      {
        text:
          'This is the second slide\nIt has bullet points on it\nThey’re fun, aren’t they?\n' +
          'Especially in a different font like Arial Black at 16 point!\n' +
          'Notes: These are the notes of the 2nd slide\nTHIS LINE IS BOLD',
        location: { page: 2, heading: 'This is the second slide' },
      },
    ],
  );
  t.deepEqual(document.metadata, { title: 'SlideShow Sample', author: 'Nick Burch', slides: 2 });
});

test('reads odt paragraphs under the heading they follow', async (t) => {
  const document = await extractFixture('base-text.odt');
  t.is(document.format, 'odt');
  t.deepEqual(
    document.sections.map(({ text, location }) => ({ text, location })),
    [
      {
        text:
          'odfdo Test Case Document\nThis is the first paragraph.\nThis is the second paragraph.\n' +
          'This is a paragraph with a named style.',
        location: { heading: 'odfdo Test Case Document' },
      },
      {
        text:
          'Level 2 Title\nThis is the first paragraph of the second title.\n' +
          'This is the last paragraph with diacritical signs: éè',
        location: { heading: 'Level 2 Title' },
      },
      {
        text:
          'First Title of the Second Section\nFirst paragraph of the second section.\n' +
          'This is the second paragraph with an external link inside.',
        location: { heading: 'First Title of the Second Section' },
      },
    ],
  );
  t.deepEqual(document.metadata, { title: 'This is the title' });
});

test('locates odt text by page where the writer recorded its page breaks', async (t) => {
  const zip = new JSZip();
  zip.file('mimetype', 'application/vnd.oasis.opendocument.text', { compression: 'STORE' });
  zip.file(
    'content.xml',
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>' +
      '<office:text text:use-soft-page-breaks="true"><text:h text:outline-level="1">Tides</text:h>' +
      '<text:p>High<text:s text:c="2"/>water at noon.</text:p><text:soft-page-break/>' +
      '<text:p>Low water at six.<office:annotation><text:p>a comment</text:p></office:annotation></text:p>' +
      '</office:text></office:body></office:document-content>',
  );
  const bytes = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  const document = await extractText({ bytes, filename: 'tides.odt' }, defaultLimits);
  t.deepEqual(
    document.sections.map(({ text, location }) => ({ text, location })),
    [
      { text: 'Tides\nHigh  water at noon.', location: { page: 1, heading: 'Tides' } },
      { text: 'Low water at six.', location: { page: 2, heading: 'Tides' } },
    ],
  );
  t.deepEqual(document.metadata, { pages: 2 });
});
