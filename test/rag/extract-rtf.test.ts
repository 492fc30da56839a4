// RTF, on Word files from Apache Tika's test corpus (test/fixtures/documents/SOURCES.md) and a
// few written here for what they lack: paragraphs in order, the code page each escape is
// written in, \u escapes with their fallbacks, what a reader skips, headings, and refusals.
import test from 'ava';
import { CorruptDocumentError, DocumentTooLargeError } from '../../rag/errors.ts';
import { extractText } from '../../rag/extract/index.ts';
import { defaultLimits, extractFixture } from './fixtures.ts';

const extractRtf = (rtf: string, filename = 'letter.rtf') =>
  extractText({ bytes: Buffer.from(rtf, 'latin1'), filename }, defaultLimits);

const located = (document: Awaited<ReturnType<typeof extractRtf>>) =>
  document.sections.map(({ text, location }) => ({ text, location }));

test('reads a word rtf in order: lists, a table, field results, unicode escapes, then its footnotes', async (t) => {
  const document = await extractFixture('testRTFVarious.rtf');
  t.is(document.format, 'rtf');
  t.deepEqual(located(document), [
    {
      text: [
        'Footnote appears here',
        'Bold italic underline superscript subscript',
        'Here is a list:',
        '·\tBullet 1',
        '·\tBullet 2',
        '·\tBullet 3',
        'Here is a numbered list:',
        '1)\tNumber bullet 1',
        '2)\tNumber bullet 2',
        '3)\tNumber bullet 3',
        'Keyword1 Keyword2',
        'This is a hyperlink',
        'Subject is here',
        'Row 1 Col 1\tRow 1 Col 2\tRow 1 Col 3',
        'Row 2 Col 1\tRow 2 Col 2\tRow 2 Col 3',
        'Suddenly some Japanese text:',
        'ゾルゲと尾崎、淡々と最期',
        '（ＧＨＱ）',
        'And then some Gothic text:',
        '𐌲𐌿𐍄𐌹𐍃𐌺',
        'Here is a citation:',
        '(Kramer)',
        'Figure 1 This is a caption for Figure 1',
        'Row 1 column 1',
        'Row 2 column 1',
        'Row 1 column 2',
        'Row 2 column 2',
      ].join('\n'),
      location: {},
    },
    { text: 'This is a footnote.', location: { heading: 'Footnotes' } },
  ]);
  t.deepEqual(document.metadata, { author: 'Michael McCandless' });
});

test('decodes escapes in the code page of their font: windows-1250 text in a windows-1252 file', async (t) => {
  const document = await extractFixture('testRTFWord2010CzechCharacters.rtf');
  t.is(document.sections.length, 1);
  t.true(
    document.text.startsWith(
      'Článek týdne\nČást svitku s textem Knihy Izajáš\nSvitky od Mrtvého moře jsou starověké židovské ' +
        'náboženské texty, nalezené poblíž Mrtvého moře, zejména v Kumránu.',
    ),
    document.text.slice(0, 200),
  );
  // The \u8201 thin spaces, with their '?' fallbacks skipped.
  t.true(document.text.includes('př.\u2009n.\u2009l. a zaniklo'));
  t.false(/[È?]/.test(document.text));
});

test('decodes double-byte escapes in the document code page, and takes \\info title and author', async (t) => {
  const document = await extractFixture('testRTF-ms932.rtf');
  t.deepEqual(located(document), [{ text: 'Hello\nこんにちは\nTest\nテスト', location: {} }]);
  t.deepEqual(document.metadata, { title: 'タイトル', author: 'shinsuke' });
});

test('a paragraph in a heading style starts a section located by it', async (t) => {
  const document = await extractFixture('testRTFWithCurlyBraces.rtf');
  t.deepEqual(located(document), [
    { text: '{ some text inside curly brackets }', location: { heading: '{ some text inside curly brackets }' } },
  ]);
  t.deepEqual(document.metadata, { title: 'Методика', author: 'kashina' });
});

test('reads dashes, hyphens, spaces and quotes written as control words', async (t) => {
  const document = await extractFixture('testRTFControls.rtf');
  t.is(
    document.text,
    [
      'Thiswordhasanem—dash',
      'Thiswordhasanen–dash',
      'Thiswordhasanon‑breakinghyphen',
      'Thiswordhasanonbreaking\u00a0space',
      'Thiswordhasanoptionalhyphen',
      '‘Single quoted text’',
      '“Double quoted text”',
      '“Double quoted text again”',
    ].join('\n'),
  );
});

test('skips the font, colour and style tables, info, pictures, headers, field instructions and optional destinations', async (t) => {
  const document = await extractRtf(
    '{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}' +
      '{\\colortbl;\\red255\\green0\\blue0;}{\\stylesheet{\\s0 Normal;}{\\s1\\outlinelevel0 Titel 1;}}' +
      "{\\info{\\title Caf\\'e9 notes}{\\author Ada}{\\keywords secret}}{\\*\\generator Riched20;}" +
      '{\\header Page header\\par}\n' +
      "\\pard\\s1 Caf\\'e9 cr\\'e8me\\par\n" +
      "\\pard{\\pict\\pngblip 89504e470d0a}Price \\u8364?5, \\uc2\\u-10240\\'81\\'a0\\u-8398??.\\par\n" +
      '{\\field{\\*\\fldinst HYPERLINK "https://example.com"}{\\fldrslt the link}}\\line second line' +
      '{\\*\\bkmkstart mark}\\par}',
  );
  t.deepEqual(located(document), [
    { text: 'Café crème\nPrice €5, 𐌲.\nthe link\nsecond line', location: { heading: 'Café crème' } },
  ]);
  t.deepEqual(document.metadata, { title: 'Café notes', author: 'Ada' });
});

test('a truncated rtf is corrupt, saying so', async (t) => {
  const error = await t.throwsAsync(extractFixture('testRTF-truncated.rtf'), { instanceOf: CorruptDocumentError });
  t.is(error.code, 'corrupt_document');
  t.is(
    error.message,
    'Corrupt rtf document "testRTF-truncated.rtf": the file ends inside 2 unclosed groups: it is truncated',
  );
});

test('a file named .rtf that is not one, or whose binary data overruns it, is corrupt', async (t) => {
  const plain = await t.throwsAsync(extractRtf('Dear reader, this is plain text.'), {
    instanceOf: CorruptDocumentError,
  });
  t.is(plain.reason, 'the file does not start with {\\rtf');
  const overrun = await t.throwsAsync(extractRtf('{\\rtf1\\ansi {\\pict\\bin999999999 xx}}'), {
    instanceOf: CorruptDocumentError,
  });
  t.is(overrun.reason, '\\bin999999999 claims more bytes than the file holds');
});

test('an rtf nested deeper than the limit is too large, not a crash', async (t) => {
  const depth = defaultLimits.maxNestingDepth + 1;
  const error = await t.throwsAsync(extractRtf(`{\\rtf1 ${'{'.repeat(depth)}deep${'}'.repeat(depth)}}`), {
    instanceOf: DocumentTooLargeError,
  });
  t.is(error.limit, 'maxNestingDepth');
});

test('an rtf holding no text is empty', async (t) => {
  const error = await t.throwsAsync(extractRtf('{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\par}'));
  t.is(error?.message, 'The rtf document "letter.rtf" contains no extractable text');
});

test('line breaks are ignored, except where they end a control word, follow a backslash or are \\bin data', async (t) => {
  const document = await extractRtf(
    "{\\rtf1\\ansi Caf\\'e9\r\n cr\\'e8me\\par\r\nNext li\r\nne\\\r\nthird{\\pict\\bin4 \r\n\r\n}\\par}",
  );
  t.is(document.text, 'Café crème\nNext line\nthird');
});

test('megabytes of picture hex, broken into lines as writers do, are skipped in linear time', async (t) => {
  const line = `${'89504e470d0a1a0a'.repeat(8)}\r\n`;
  const picture = `{\\pict\\pngblip\r\n${line.repeat(48_000)}}`;
  const started = performance.now();
  const document = await extractRtf(`{\\rtf1\\ansi Before\\par ${picture}After\\par}`);
  const elapsed = performance.now() - started;
  t.is(document.text, 'Before\nAfter');
  // Quadratic before: 6 MB of lines took over a minute; about a second now.
  t.true(elapsed < 15_000, `${Math.round(elapsed)} ms`);
});

test("takes word's \\upr title from its unicode half, not the ansi one of question marks", async (t) => {
  const document = await extractFixture('testRTFJapanese.rtf');
  t.deepEqual(document.metadata, { title: 'ゾルゲと尾崎、淡々と最期', author: 'VMazelVMazel' });
  t.true(document.text.startsWith('ゾルゲと尾崎、淡々と最期\n古書店で処刑記録見つかる\n1.\tゾルゲの処刑記録、\n'));
  t.false(document.text.includes('?'));
});
