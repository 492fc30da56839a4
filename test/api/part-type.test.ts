// FilePartType keeps the whole Content-Type of an upload's file part, which busboy drops the
// parameters of, however the body is cut into chunks, and passes every byte through unchanged.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import test from 'ava';
import { FilePartType } from '../../api/routes/documents/part-type.ts';

const BOUNDARY = '----quarry-boundary-7MA4YWxkTrZu0gW';
const REQUEST_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

function body(parts: readonly string[]): Buffer {
  return Buffer.from(`${parts.map((part) => `--${BOUNDARY}\r\n${part}\r\n`).join('')}--${BOUNDARY}--\r\n`, 'latin1');
}

async function read(bytes: Buffer, chunkSize: number, requestType = REQUEST_TYPE) {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize));
  const tap = new FilePartType(requestType, 'file');
  const passed = await buffer(Readable.from(chunks).pipe(tap));
  return { contentType: tap.contentType, passed };
}

const FORM = body([
  'Content-Disposition: form-data; name="title"\r\n\r\nPlaces',
  // A file part of another field, then a field named "file" that is no file: both passed over.
  'Content-Disposition: form-data; name="other"; filename="a.txt"\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\nx',
  'Content-Disposition: form-data; name="file"\r\nContent-Type: text/plain; charset=utf-16\r\n\r\nnot a file',
  'Content-Disposition: form-data; name="file"; filename="places.txt"\r\n' +
    'Content-Type: text/plain; charset=windows-1252\r\n\r\n\xcdSAFJ\xd6R\xd0UR',
  'Content-Disposition: form-data; name="file"; filename="second.txt"\r\nContent-Type: text/html\r\n\r\n<p>',
]);

test('finds the first file part of the field, whatever the chunk size, and passes every byte on', async (t) => {
  for (const size of [1, 2, 7, 33, 64, 1024, FORM.length]) {
    const { contentType, passed } = await read(FORM, size);
    t.is(contentType, 'text/plain; charset=windows-1252', `chunks of ${size}`);
    t.deepEqual(passed, FORM, `chunks of ${size}`);
  }
});

test('an octet-stream part without a file name is a file, as busboy takes it', async (t) => {
  const form = body([
    'Content-Disposition: form-data; name="file"\r\nContent-Type: Application/Octet-Stream; x=1\r\n\r\n\x00\x01',
  ]);
  t.is((await read(form, 5)).contentType, 'Application/Octet-Stream; x=1');
});

test('a quoted boundary, a file part without a type, and a body without a boundary', async (t) => {
  const form = body(['Content-Disposition: form-data; name="file"; filename="x.txt"\r\n\r\nwords']);
  t.is((await read(form, 3, `multipart/form-data; boundary="${BOUNDARY}"`)).contentType, undefined);
  const typed = body([
    'Content-Disposition: form-data; name=file; filename=x.txt\r\nContent-Type: text/csv\r\n\r\na,b',
  ]);
  t.is((await read(typed, 4, `multipart/form-data; boundary="${BOUNDARY}"`)).contentType, 'text/csv');
  const { contentType, passed } = await read(FORM, 16, 'multipart/form-data');
  t.is(contentType, undefined);
  t.deepEqual(passed, FORM);
});
