import test from 'ava';
import { chunkDocument } from '../../rag/chunk.ts';
import { TooManyChunksError } from '../../rag/errors.ts';
import { assembleDocument } from '../../rag/extract/document.ts';
import { extractText } from '../../rag/extract/index.ts';
import { defaultLimits, readFixture } from './fixtures.ts';

const paragraph = (n: number) =>
  `Paragraph ${n} talks about granite, basalt and the quarry floor; it repeats itself a little. `.repeat(3).trim();

const longDocument = assembleDocument('long.md', 'md', [
  { text: Array.from({ length: 12 }, (_, i) => paragraph(i)).join('\n\n'), location: { heading: 'Rocks' } },
  { text: Array.from({ length: 8 }, (_, i) => paragraph(100 + i)).join('\n'), location: { heading: 'More rocks' } },
]);

test('every chunk maps back to the source text exactly', async (t) => {
  const chunks = await chunkDocument(longDocument, { chunkSize: 300, chunkOverlap: 60 });
  t.true(chunks.length > 10);
  for (const chunk of chunks) {
    t.is(longDocument.text.slice(chunk.start, chunk.end), chunk.text);
    t.true(chunk.text.length <= 300);
  }
  t.deepEqual(
    chunks.map((chunk) => chunk.index),
    chunks.map((_, i) => i),
  );
});

test('chunks keep the location of their section and never span two sections', async (t) => {
  const chunks = await chunkDocument(longDocument, { chunkSize: 300, chunkOverlap: 60 });
  const [first, second] = longDocument.sections;
  for (const chunk of chunks) {
    const section = chunk.start < first!.end ? first! : second!;
    t.deepEqual(chunk.location, section.location);
    t.true(chunk.start >= section.start && chunk.end <= section.end);
  }
  t.deepEqual([...new Set(chunks.map((chunk) => chunk.location.heading))], ['Rocks', 'More rocks']);
});

test('neighbouring chunks of a section overlap by at most the configured overlap', async (t) => {
  const words = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
  const document = assembleDocument('words.txt', 'txt', [{ text: words, location: {} }]);
  const chunks = await chunkDocument(document, { chunkSize: 100, chunkOverlap: 30 });
  const overlaps = chunks.slice(1).map((chunk, i) => chunks[i]!.end - chunk.start);
  t.true(overlaps.every((overlap) => overlap > 0 && overlap <= 30));
  t.is(chunks.at(-1)!.end, words.length);
});

test('chunking is deterministic', async (t) => {
  const options = { chunkSize: 200, chunkOverlap: 20 };
  t.deepEqual(await chunkDocument(longDocument, options), await chunkDocument(longDocument, options));
});

test('a pdf chunk knows its page', async (t) => {
  const document = await extractText({ bytes: await readFixture('report.pdf'), filename: 'report.pdf' }, defaultLimits);
  const chunks = await chunkDocument(document, { chunkSize: 60, chunkOverlap: 10 });
  t.deepEqual(
    chunks.map((chunk) => [chunk.location.page, chunk.text]),
    [
      [1, 'Glacier Survey Report'],
      [1, 'The survey team measured the Vatnajokull glacier retreat in'],
      [1, 'in spring.'],
      [2, 'Meltwater findings'],
      [2, 'Meltwater discharge doubled compared with the previous'],
      [2, 'previous decade.'],
    ],
  );
});

test('a short section becomes a single chunk equal to it', async (t) => {
  const document = assembleDocument('a.txt', 'txt', [{ text: '  Short text.  ', location: {} }]);
  t.deepEqual(await chunkDocument(document, { chunkSize: 1000, chunkOverlap: 150 }), [
    { index: 0, text: 'Short text.', start: 0, end: 11, location: {} },
  ]);
});

test('refuses a document that splits into more chunks than one document may have', async (t) => {
  const options = { chunkSize: 300, chunkOverlap: 60 };
  const count = (await chunkDocument(longDocument, options)).length;
  t.is((await chunkDocument(longDocument, { ...options, maxChunks: count })).length, count);
  const error = await t.throwsAsync(chunkDocument(longDocument, { ...options, maxChunks: count - 1 }), {
    instanceOf: TooManyChunksError,
  });
  t.is(error.code, 'document_too_large');
  t.false(error.retryable);
  t.is(error.message, `The document is too large to process: it splits into more than ${count - 1} chunks`);
});
