import test from 'ava';
import { CorruptDocumentError, UnsupportedFormatError } from '../../rag/errors.ts';
import { identifyFormat } from '../../rag/extract/detect.ts';
import { readFixture } from './fixtures.ts';

test('the bytes of a format with a signature decide over its name and declared type', async (t) => {
  const docx = await readFixture('handbook.docx');
  t.deepEqual(await identifyFormat(docx, 'handbook.pdf', 'application/pdf'), {
    format: 'docx',
    mediaType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  });
  t.deepEqual(await identifyFormat(await readFixture('report.pdf'), 'report', 'text/plain'), {
    format: 'pdf',
    mediaType: 'application/pdf',
  });
});

test('a signature of a format quarry does not read is unsupported whatever the name says', async (t) => {
  const png = await t.throwsAsync(identifyFormat(await readFixture('image.png'), 'photo.md', 'text/markdown'), {
    instanceOf: UnsupportedFormatError,
  });
  t.is(png.detectedType, 'image/png');
  t.is(
    png.message,
    'Unsupported document format for "photo.md" (text/markdown; its bytes are image/png): ' +
      'expected txt, md, html, pdf, docx, xlsx, ods, pptx, odt, rtf, csv, json or eml',
  );
  const zip = await t.throwsAsync(identifyFormat(await readFixture('corrupt.docx'), 'notes.txt'), {
    instanceOf: UnsupportedFormatError,
  });
  t.is(zip.detectedType, 'application/zip');
});

test('text formats keep their name’s rules, even when they open like xml', async (t) => {
  const xhtml = Buffer.from('<?xml version="1.0" encoding="utf-8"?>\n<html><body><p>Hi</p></body></html>');
  t.deepEqual(await identifyFormat(xhtml, 'page.xhtml', 'application/xhtml+xml'), {
    format: 'html',
    mediaType: 'application/xhtml+xml',
  });
  t.deepEqual(await identifyFormat(Buffer.from('a,b\n1,2\n'), 'table.csv', 'application/octet-stream'), {
    format: 'csv',
    mediaType: 'text/csv',
  });
  await t.throwsAsync(identifyFormat(xhtml, 'feed.xml', 'application/xml'), { instanceOf: UnsupportedFormatError });
});

test('a zip under a package name is left to its extractor, and a pdf name over other bytes is corrupt', async (t) => {
  t.is((await identifyFormat(await readFixture('corrupt.docx'), 'corrupt.docx')).format, 'docx');
  const error = await t.throwsAsync(identifyFormat(Buffer.from('plain words'), 'fake.pdf'), {
    instanceOf: CorruptDocumentError,
  });
  t.is(error.reason, 'the file does not start with %PDF-');
});

test('text that happens to open like a signature is read as the text its name says', async (t) => {
  // "BM" opens a bitmap, "MZ" an executable, "ID3" an MP3, "GIF8" a GIF: all seen in prose.
  const texts = [
    'BMI-1 is overexpressed in a variety of cancers, which can elicit an immune response.',
    'MZ-type wedges are indexed in the catalogue beside the others.',
    'ID3 tags name the artist of each track.',
    'GIF89a is the animated variant.',
  ];
  for (const text of texts) {
    const bytes = Buffer.from(`${text}\n`, 'utf8');
    t.deepEqual(
      await identifyFormat(bytes, 'abstract.txt', 'text/plain'),
      { format: 'txt', mediaType: 'text/plain' },
      text,
    );
    t.is((await identifyFormat(bytes, 'abstract.md')).format, 'md', text);
  }
});

test('an rtf is read as rtf by its signature, its extension or either media type', async (t) => {
  const rtf = Buffer.from('{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Hello}');
  // Its markup is text too, but not the document's: under a text name it is still RTF.
  t.deepEqual(await identifyFormat(rtf, 'letter.txt', 'text/plain'), { format: 'rtf', mediaType: 'application/rtf' });
  t.deepEqual(await identifyFormat(rtf, 'letter.rtf'), { format: 'rtf', mediaType: 'application/rtf' });
  t.deepEqual(await identifyFormat(rtf, 'letter', 'text/rtf'), { format: 'rtf', mediaType: 'text/rtf' });
  t.deepEqual(await identifyFormat(rtf, 'letter', 'application/rtf'), { format: 'rtf', mediaType: 'application/rtf' });
});
