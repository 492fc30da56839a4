// Text formats in the encodings real files come in (issue 10): byte order marks, declared
// charsets (a page's <meta>, the upload's Content-Type) and legacy code pages guessed from bytes.
import test from 'ava';
import { CorruptDocumentError, UnsupportedFormatError } from '../../rag/errors.ts';
import { loadConfig } from '../../config.ts';
import { extractText } from '../../rag/extract/index.ts';
import { ExtractionSandbox, sandboxOptions } from '../../rag/extract/sandbox.ts';
import { defaultLimits, extractFixture, readFixture } from './fixtures.ts';

test('reads an html page in the windows-1252 its meta http-equiv declares', async (t) => {
  const document = await extractFixture('bistro-menu.html');
  t.is(
    document.text,
    'Café Lumière – menu\n\nCafé Lumière\n\n' +
      'Our “crème brûlée” costs €7.50 and comes with a café au lait – the chef’s choice.',
  );
  t.deepEqual(document.metadata, { title: 'Café Lumière – menu', encoding: 'windows-1252' });
});

test('reads a utf-16le text file by its byte order mark, with its crlf line ends made lf', async (t) => {
  const document = await extractFixture('shift-log.txt');
  t.is(document.text, 'Night shift log — Pumpstation Süd\nThe operator replaced the impeller of pump 3 at 02:40.');
  t.deepEqual(document.metadata, { encoding: 'utf-16le' });
});

test('reads a utf-16le text file without a byte order mark', async (t) => {
  const bytes = Buffer.from('Pump 3 was serviced on Tuesday.\r\nNo leaks were found.\r\n', 'utf16le');
  const document = await extractText({ bytes, filename: 'log.txt' }, defaultLimits);
  t.is(document.text, 'Pump 3 was serviced on Tuesday.\nNo leaks were found.');
  t.is(document.metadata['encoding'], 'utf-16le');
});

test('detects the windows-1252 of a spreadsheet csv export that declares nothing', async (t) => {
  const document = await extractFixture('suppliers-1252.csv');
  t.true(document.text.includes('Lieferant: Müller & Söhne GmbH'));
  t.true(document.text.includes('Straße: Rue de l’Église 3'));
  t.is(document.metadata['encoding'], 'windows-1252');
});

test('decodes by the charset of the media type the file came with', async (t) => {
  const declared = await extractFixture('memo-1251.txt', 'text/plain; charset=windows-1251');
  t.is(declared.text, 'Цена: 120 рублей.');
  t.is(declared.metadata['encoding'], 'windows-1251');
  // Without it the few bytes are read as Greek: the declaration is what makes this text right.
  const guessed = await extractFixture('memo-1251.txt');
  t.not(guessed.text, declared.text);
});

test('passes the charset of the media type into the extraction thread', async (t) => {
  const sandbox = new ExtractionSandbox(sandboxOptions(loadConfig({})));
  const bytes = await readFixture('memo-1251.txt');
  const document = await sandbox.extract({
    bytes,
    filename: 'memo.txt',
    mimeType: 'text/plain;charset="windows-1251"',
  });
  t.is(document.text, 'Цена: 120 рублей.');
});

test('reads valid utf-8 as utf-8 even under a wrong legacy charset', async (t) => {
  const bytes = Buffer.from('Grüße aus Köln', 'utf8');
  const mimeType = 'text/plain; charset=iso-8859-1';
  const document = await extractText({ bytes, filename: 'x.txt', mimeType }, defaultLimits);
  t.is(document.text, 'Grüße aus Köln');
  t.deepEqual(document.metadata, {});
});

test('a declared charset the bytes do not fit gives way to a guess', async (t) => {
  const bytes = Buffer.from(
    '<meta charset="utf-8"><p>Caf\xe9 cr\xe8me, na\xefve fa\xe7ade, \x93quoted\x94</p>',
    'latin1',
  );
  const document = await extractText({ bytes, filename: 'page.html' }, defaultLimits);
  t.is(document.text, 'Café crème, naïve façade, “quoted”');
  t.is(document.metadata['encoding'], 'windows-1252');
});

test('reads a 7-bit iso-2022-jp text by its charset', async (t) => {
  // 「会議は金曜日です。」 in ISO-2022-JP: ASCII bytes, with escapes to and from JIS X 0208.
  const bytes = Buffer.from('\x1b$B2q5D$O6bMKF|$G$9!#\x1b(B\n', 'latin1');
  const mimeType = 'text/plain; charset=ISO-2022-JP';
  const document = await extractText({ bytes, filename: 'memo.txt', mimeType }, defaultLimits);
  t.is(document.text, '会議は金曜日です。');
});

test('keeps refusing binary bytes under a text name', async (t) => {
  // A PNG's magic number says what it is: unsupported, named as such.
  const png = await t.throwsAsync(
    extractText({ bytes: await readFixture('image.png'), filename: 'image.txt' }, defaultLimits),
    { instanceOf: UnsupportedFormatError },
  );
  t.is(png.detectedType, 'image/png');
  // Bytes no magic number names, and no encoding makes text of, are corrupt text.
  const noise = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 32));
  const error = await t.throwsAsync(extractText({ bytes: noise, filename: 'noise.txt' }, defaultLimits), {
    instanceOf: CorruptDocumentError,
  });
  t.is(error.reason, 'the file holds binary data');
});
