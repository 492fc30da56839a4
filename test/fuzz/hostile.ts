// The catalogue of hostile shapes the fuzz suite mixes into otherwise well-formed requests:
// values of the wrong type or out of range, NULs and broken Unicode, huge and deeply nested
// bodies, prototype-pollution keys, lying headers, path ids that are not ids, and files that
// are truncated, bombs, or not what their name says.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

const deep = (open: string, leaf: string, close: string, depth: number) =>
  open.repeat(depth) + leaf + close.repeat(depth);

/** Values to put where a field belongs. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    'a\u0000b',
    '\u0000',
    '\ud800',
    'x\udfffy',
    '\u202eevil',
    '\u2028\u2029',
    '\ufeff',
    '%00',
    '../../../../etc/passwd',
    "' OR 1=1 --",
    '<script>alert(1)</script>',
    '${jndi:ldap://127.0.0.1/x}',
    '   ',
    '',
    '😀'.repeat(3000),
    'x'.repeat(100_000),
    'null',
    '__proto__',
  ),
  fc.constantFrom(-1, 0, -0, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 4294967296, 1e-300),
  fc.constantFrom(null, true, false, [], {}, [null], [[[]]], { '': '' }),
  fc.constant(JSON.parse('{"__proto__":{"isAdmin":true,"role":"owner"}}')),
  fc.constant({ constructor: { prototype: { isAdmin: true } } }),
  fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.integer(),
  fc.jsonValue({ maxDepth: 4 }),
);

/** Whole bodies sent as they are, whatever the route expects. */
export const hostileRawBody: fc.Arbitrary<{ body: Buffer; contentType: string }> = fc.oneof(
  fc
    .constantFrom(
      '{"query": "unterminated',
      '{',
      '[]',
      'null',
      '"a string"',
      '1e999999',
      '{"a":1,"a":2,"a":{"b":[1,2,{"c":null}]}}',
      '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}',
      deep('[', '1', ']', 100_000),
      deep('{"a":', '1', '}', 50_000),
      deep('{"filters":', '{}', '}', 10_000),
      `${' '.repeat(500_000)}{}`,
      `{"tags":[${Array.from({ length: 40_000 }, () => '"t"').join(',')}]}`,
      `{"query":"${'q'.repeat(2_000_000)}"}`,
      '\ufeff{"query":"leave"}',
    )
    .map((text) => ({ body: Buffer.from(text), contentType: 'application/json' })),
  fc.constantFrom(
    { body: Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), contentType: 'application/json' },
    { body: Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), contentType: 'application/json; charset=utf-8' },
    { body: Buffer.from('{"a":1}', 'utf16le'), contentType: 'application/json; charset=utf-16' },
    { body: Buffer.from('a=1&b=2'), contentType: 'application/x-www-form-urlencoded' },
    { body: Buffer.from('<x/>'), contentType: 'application/xml' },
    { body: Buffer.from('{}'), contentType: 'multipart/form-data' },
    { body: Buffer.from('--x\r\n\r\n'), contentType: 'multipart/form-data; boundary=x' },
    { body: Buffer.from('{}'), contentType: 'application/json; boundary=x; charset=nonsense' },
    { body: Buffer.alloc(0), contentType: 'application/json' },
  ),
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ body: Buffer.from(bytes), contentType: 'application/json' })),
);

/** Path segments where an id belongs. */
export const hostileId: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.uuid().map((id) => id.toUpperCase()),
  fc.constantFrom(
    'not-a-uuid',
    '%00',
    '..%2F..%2Fetc%2Fpasswd',
    '%E2%80%AE',
    '00000000-0000-0000-0000-000000000000',
    'x'.repeat(5000),
    '%',
    '%zz',
    '1',
    'null',
  ),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);

/** Headers a careless or hostile client sends; fetch refuses control characters, so none here. */
export const hostileHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    'x-tenant-id': fc.oneof(fc.uuid(), fc.constantFrom('garbage', '', ' ', 'x'.repeat(8000))),
    'x-request-id': fc.constantFrom('../../x', 'a'.repeat(1000), '<script>', ''),
    'content-encoding': fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'zstd', 'gzip, gzip', 'x'),
    accept: fc.constantFrom('application/xml', '*/*;q=0', 'text/event-stream'),
    'accept-encoding': fc.constantFrom('gzip', 'br', '*', 'identity;q=0'),
  },
  { requiredKeys: [] },
);

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'documents');
const fixture = (name: string) => readFileSync(path.join(fixtures, name));

/** The smallest zip: one stored entry, for files that claim to be docx but hold anything else. */
function zipOf(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt32LE(content.length, 18);
  header.writeUInt32LE(content.length, 22);
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, Buffer.from(name), content]);
}

function nestedMime(depth: number): string {
  let body = 'Content-Type: text/plain\r\n\r\ninnermost\r\n';
  for (let level = 0; level < depth; level += 1) {
    const boundary = `b${level}`;
    body = `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\n${body}--${boundary}--\r\n`;
  }
  return `From: a@example.com\r\nTo: b@example.com\r\nSubject: nested\r\nMIME-Version: 1.0\r\n${body}`;
}

/** Files to upload: (name, bytes, declared type). */
export const hostileFile: fc.Arbitrary<{ filename: string; bytes: Buffer; mimeType: string }> = fc.oneof(
  fc.constantFrom(
    { filename: 'handbook.docx', bytes: fixture('handbook.docx'), mimeType: 'application/octet-stream' },
    { filename: 'report.pdf', bytes: fixture('report.pdf'), mimeType: 'application/pdf' },
    { filename: 'corrupt.pdf', bytes: fixture('corrupt.pdf'), mimeType: 'application/pdf' },
    { filename: 'corrupt.docx', bytes: fixture('corrupt.docx'), mimeType: 'application/octet-stream' },
    { filename: 'image.png', bytes: fixture('image.png'), mimeType: 'image/png' },
    { filename: 'budget.eml', bytes: fixture('budget.eml'), mimeType: 'message/rfc822' },
    { filename: 'inventory.csv', bytes: fixture('inventory.csv'), mimeType: 'text/csv' },
    { filename: 'blank.txt', bytes: fixture('blank.txt'), mimeType: 'text/plain' },
    { filename: 'report.pdf.txt', bytes: fixture('report.pdf'), mimeType: 'text/plain' },
    { filename: 'deep.html', bytes: Buffer.from(deep('<div>', 'x', '</div>', 30_000)), mimeType: 'text/html' },
    { filename: 'deep.json', bytes: Buffer.from(deep('[', '"x"', ']', 30_000)), mimeType: 'application/json' },
    { filename: 'nested.eml', bytes: Buffer.from(nestedMime(600)), mimeType: 'message/rfc822' },
    {
      filename: 'quote.csv',
      bytes: Buffer.from('place,where\nhill,37°36\'37.8"N\n"open,quote\n'),
      mimeType: 'text/csv',
    },
    { filename: 'not.docx', bytes: zipOf('word/document.xml', Buffer.from('<w:document>')), mimeType: '' },
    { filename: 'truncated.docx', bytes: fixture('handbook.docx').subarray(0, 200), mimeType: '' },
    { filename: 'truncated.pdf', bytes: fixture('report.pdf').subarray(0, 300), mimeType: 'application/pdf' },
    { filename: 'nul.txt', bytes: Buffer.from('text with \u0000 NULs \u0000 in it'), mimeType: 'text/plain' },
    { filename: 'utf16.txt', bytes: Buffer.from('\ufeffhello in UTF-16', 'utf16le'), mimeType: 'text/plain' },
    { filename: '😀 名前.md', bytes: Buffer.from('# Titel\n\nÜbersicht'), mimeType: 'text/markdown' },
    { filename: 'empty.txt', bytes: Buffer.alloc(0), mimeType: 'text/plain' },
    { filename: 'program.exe', bytes: Buffer.from('MZ\x90\x00'), mimeType: 'application/x-msdownload' },
    { filename: 'various.rtf', bytes: fixture('testRTFVarious.rtf'), mimeType: 'application/rtf' },
    { filename: 'truncated.rtf', bytes: fixture('testRTF-truncated.rtf'), mimeType: 'text/rtf' },
    { filename: 'deep.rtf', bytes: Buffer.from(`{\\rtf1 ${deep('{', 'x', '}', 30_000)}}`), mimeType: '' },
    { filename: 'bin.rtf', bytes: Buffer.from('{\\rtf1{\\pict\\bin99999999999 x}}'), mimeType: '' },
    { filename: 'klingon.txt', bytes: Buffer.from('Plain words.'), mimeType: 'text/plain; charset=x-klingon' },
    { filename: 'cp1252.txt', bytes: Buffer.from('caf\xe9', 'latin1'), mimeType: 'text/plain; charset=windows-1252' },
  ),
  fc
    .tuple(
      fc.constantFrom('txt', 'md', 'html', 'pdf', 'docx', 'csv', 'json', 'eml', 'rtf', 'bin', ''),
      fc.uint8Array({ maxLength: 4096 }),
    )
    .map(([extension, bytes]) => ({
      filename: extension ? `random.${extension}` : 'random',
      bytes: Buffer.from(bytes),
      mimeType: '',
    })),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 2000 }).map((text) => ({
    filename: 'drawn.txt',
    bytes: Buffer.from(text),
    mimeType: 'text/plain',
  })),
);

/** File names, with the file's own extension kept at the end where there is one. */
export const hostileFilename: fc.Arbitrary<(name: string) => string> = fc.constantFrom(
  (name: string) => name,
  (name: string) => `${'n'.repeat(10_000)}${name}`,
  (name: string) => `../../${name}`,
  (name: string) => `C:\\Users\\x\\${name}`,
  (name: string) => `"quoted" ${name}`,
  (name: string) => ` ${name} `,
  () => '',
);
