import test from 'ava';
import { chunkDocument, contextualHeader, indexedText } from '../../rag/chunk.ts';
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
      // 'in spring.' (10 characters) is below the minimum (60 / 5): it joins the chunk it overlaps.
      [1, 'The survey team measured the Vatnajokull glacier retreat in spring.'],
      [2, 'Meltwater findings'],
      [2, 'Meltwater discharge doubled compared with the previous'],
      [2, 'previous decade.'],
    ],
  );
});

test('a short section becomes a single chunk equal to it', async (t) => {
  const document = assembleDocument('a.txt', 'txt', [{ text: '  Short text.  ', location: {} }]);
  t.deepEqual(await chunkDocument(document, { chunkSize: 1000, chunkOverlap: 150 }), [
    { index: 0, text: 'Short text.', start: 0, end: 11, location: {}, header: null },
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

// Merging fragments (issue 9: 32 of 108 sampled SciFact chunks were a title alone).
const longParagraph = (n: number, size: number) =>
  `Abstract ${n}: the granite samples were crushed, sieved and weighed twice. `.repeat(20).slice(0, size).trimEnd();

test('a title line before a paragraph too long to share a chunk with is merged into it', async (t) => {
  const title = 'Crush strength of granite';
  const body = longParagraph(1, 290);
  const document = assembleDocument('abstract.txt', 'txt', [{ text: `${title}\n\n${body}`, location: {} }]);
  // Without merging the splitter gives the title a chunk of its own, as it does with no minimum.
  const unmerged = await chunkDocument(document, { chunkSize: 300, chunkOverlap: 0, minChunkSize: 0 });
  t.deepEqual(
    unmerged.map((chunk) => chunk.text),
    [title, body],
  );
  const chunks = await chunkDocument(document, { chunkSize: 300, chunkOverlap: 0 });
  t.deepEqual(
    chunks.map((chunk) => chunk.text),
    [document.text],
  );
  t.like(chunks[0], { index: 0, start: 0, end: document.text.length });
});

test('no chunk is below the minimum size except a whole short document, and none loses its offsets', async (t) => {
  const document = assembleDocument('report.md', 'md', [
    { text: '# Report', location: { heading: 'Report' } },
    { text: `## Method\n\nShort intro.\n\n${longParagraph(2, 280)}\n\nTail.`, location: { heading: 'Method' } },
    { text: '## Empty', location: { heading: 'Empty' } },
    { text: `## Results\n\n${longParagraph(3, 290)}\n\n${longParagraph(4, 290)}`, location: { heading: 'Results' } },
    { text: 'Fin.', location: { heading: 'Results' } },
  ]);
  const options = { chunkSize: 300, chunkOverlap: 40, minChunkSize: 100 };
  const unmerged = await chunkDocument(document, { ...options, minChunkSize: 0 });
  t.true(unmerged.filter((chunk) => chunk.text.length < 100).length >= 5);

  const chunks = await chunkDocument(document, options);
  for (const chunk of chunks) {
    t.true(chunk.text.length >= 100, chunk.text);
    t.true(chunk.text.length <= options.chunkSize + options.minChunkSize, chunk.text);
    t.is(document.text.slice(chunk.start, chunk.end), chunk.text);
  }
  // In order, covering the whole document, each fragment with a neighbour.
  t.is(chunks[0]!.start, 0);
  t.is(chunks.at(-1)!.end, document.text.length);
  for (const [index, chunk] of chunks.entries()) t.is(chunk.index, index);
  // A tail stays with its own section; a heading with nothing under it goes with what follows.
  t.true(chunks.some((chunk) => chunk.text.endsWith(`${longParagraph(2, 280)}\n\nTail.`)));
  t.true(chunks.some((chunk) => chunk.text.startsWith('## Empty\n\n## Results')));
  t.true(chunks.at(-1)!.text.endsWith(`${longParagraph(4, 290)}\n\nFin.`));

  const short = assembleDocument('a.txt', 'txt', [
    { text: 'One line.', location: { heading: 'A' } },
    { text: 'Two.', location: { heading: 'B' } },
  ]);
  t.deepEqual(
    (await chunkDocument(short, options)).map((chunk) => chunk.text),
    ['One line.\n\nTwo.'],
  );
});

test('each chunk carries the document title and its nearest heading as its header', async (t) => {
  const chunks = await chunkDocument({ ...longDocument, title: 'Field notes' }, { chunkSize: 300, chunkOverlap: 60 });
  t.deepEqual([...new Set(chunks.map((chunk) => chunk.header))], ['Field notes\nRocks', 'Field notes\nMore rocks']);
  t.false(chunks.some((chunk) => chunk.text.includes('Field notes')));
  t.is(indexedText(chunks[0]!), `Field notes\nRocks\n\n${chunks[0]!.text}`);
  t.is(contextualHeader('Rocks', { heading: 'Rocks' }), 'Rocks');
  t.is(contextualHeader(undefined, { page: 2 }), null);
  t.is(indexedText({ header: null, text: 'bare' }), 'bare');
});
