// Hostile documents, built in memory by the tests that need them (none is committed): deep
// nesting, mail with thousands of MIME parts, zip bombs, and text holding NUL characters.
import zlib from 'node:zlib';
import JSZip from 'jszip';

export const DOCX_MIME_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** `<div>` nested `depth` deep around a line of text. */
export function nestedHtml(depth: number): Buffer {
  return Buffer.from(`<html><body>${'<div>'.repeat(depth)}deep text${'</div>'.repeat(depth)}</body></html>`);
}

/** An RTF document with groups nested `depth` deep (its own group included) around a word. */
export function nestedRtf(depth: number): Buffer {
  return Buffer.from(`{\\rtf1\\ansi ${'{'.repeat(depth - 1)}deep text${'}'.repeat(depth - 1)}}`);
}

/** Arrays nested `depth` deep around a string. */
export function nestedJson(depth: number): Buffer {
  return Buffer.from(`${'['.repeat(depth)}"deep"${']'.repeat(depth)}`);
}

const MAIL_HEADERS = 'Subject: Hostile mail\r\nFrom: mallory@quarry.test\r\nMIME-Version: 1.0\r\n';

/** A mail whose body is `depth` multipart/mixed parts, each inside the one before. */
export function nestedMultipartMail(depth: number): Buffer {
  let opening = '';
  let closing = '';
  for (let level = 0; level < depth; level += 1) {
    opening += `Content-Type: multipart/mixed; boundary="b${level}"\r\n\r\n--b${level}\r\n`;
    closing = `\r\n--b${level}--\r\n${closing}`;
  }
  return Buffer.from(`${MAIL_HEADERS}${opening}Content-Type: text/plain\r\n\r\nhello${closing}`);
}

/** A mail with a text part and `count` small attachments. */
export function manyAttachmentsMail(count: number): Buffer {
  const parts = [`--B\r\nContent-Type: text/plain\r\n\r\nSee the attachments.\r\n`];
  for (let index = 0; index < count; index += 1) {
    parts.push(
      `--B\r\nContent-Type: application/octet-stream\r\n` +
        `Content-Disposition: attachment; filename="a${index}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n`,
    );
  }
  return Buffer.from(`${MAIL_HEADERS}Content-Type: multipart/mixed; boundary="B"\r\n\r\n${parts.join('')}--B--\r\n`);
}

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/word/document.xml" ' +
  'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';

const PACKAGE_RELS =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
  '<Relationship Id="rId1" ' +
  'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" ' +
  'Target="word/document.xml"/></Relationships>';

const DOCUMENT_OPEN =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
  '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>';
const DOCUMENT_CLOSE = '</w:body></w:document>';

/** A docx whose body is the given WordprocessingML, zipped by jszip. */
export function docx(bodyXml: string): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', CONTENT_TYPES);
  zip.file('_rels/.rels', PACKAGE_RELS);
  zip.file('word/document.xml', `${DOCUMENT_OPEN}${bodyXml}${DOCUMENT_CLOSE}`);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** A docx of `count` empty paragraphs: 17 KB that mammoth turns into millions of objects. */
export function emptyParagraphsDocx(count: number): Promise<Buffer> {
  return docx('<w:p/>'.repeat(count));
}

interface ZipEntry {
  readonly name: string;
  /** Raw DEFLATE data. */
  readonly data: Buffer;
  readonly crc32: number;
  readonly size: number;
}

function deflatedEntry(name: string, content: string): ZipEntry {
  const bytes = Buffer.from(content);
  return { name, data: zlib.deflateRawSync(bytes), crc32: zlib.crc32(bytes), size: bytes.length };
}

/**
 * A zip of the given entries, written by hand: jszip would have to push every inflated byte of
 * a bomb through its JavaScript deflate. `declaredSize` replaces the sizes the headers state.
 */
function zipOf(entries: readonly ZipEntry[], declaredSize?: (entry: ZipEntry) => number): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const size = declaredSize?.(entry) ?? entry.size;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(8, 8); // DEFLATE
    local.writeUInt32LE(entry.crc32, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(20, 6); // version needed
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(entry.crc32, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.data);
    centrals.push(central, name);
    offset += local.length + name.length + entry.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/**
 * A zip whose entry `name` holds `mebibytes` MiB of the letter a between `open` and `close`,
 * beside small `others`: a few hundred KB that inflate to that much. The DEFLATE stream repeats
 * one compressed 1 MiB block (each block is complete on its own, flushed to a byte boundary), so
 * building it costs almost nothing. `declaredSize`, when given, is the (false) uncompressed size
 * its headers claim for that entry.
 */
function zipBomb(
  bomb: { name: string; open: string; close: string },
  others: Readonly<Record<string, string>>,
  mebibytes: number,
  options: { declaredSize?: number } = {},
): Buffer {
  const open = Buffer.from(bomb.open);
  const close = Buffer.from(bomb.close);
  const mebibyte = Buffer.alloc(1024 * 1024, 'a');
  const flushed = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const block = zlib.deflateRawSync(mebibyte, flushed);
  let crc32 = zlib.crc32(open);
  for (let index = 0; index < mebibytes; index += 1) crc32 = zlib.crc32(mebibyte, crc32);
  crc32 = zlib.crc32(close, crc32);
  const inflating: ZipEntry = {
    name: bomb.name,
    data: Buffer.concat([
      zlib.deflateRawSync(open, flushed),
      ...Array.from({ length: mebibytes }, () => block),
      zlib.deflateRawSync(close),
    ]),
    crc32,
    size: open.length + mebibytes * mebibyte.length + close.length,
  };
  const entries = Object.entries(others).map(([name, content]) => deflatedEntry(name, content));
  return zipOf([...entries, inflating], (entry) =>
    entry === inflating && options.declaredSize !== undefined ? options.declaredSize : entry.size,
  );
}

/** A valid docx whose one paragraph holds `mebibytes` MiB of the letter a (see zipBomb). */
export function zipBombDocx(mebibytes: number, options: { declaredSize?: number } = {}): Buffer {
  return zipBomb(
    {
      name: 'word/document.xml',
      open: `${DOCUMENT_OPEN}<w:p><w:r><w:t>`,
      close: `</w:t></w:r></w:p>${DOCUMENT_CLOSE}`,
    },
    { '[Content_Types].xml': CONTENT_TYPES, '_rels/.rels': PACKAGE_RELS },
    mebibytes,
    options,
  );
}

/**
 * A package whose `name` entry inflates to `mebibytes` MiB of the letter a, after the entries
 * that make file-type and the format's name see it as an xlsx, ods, pptx or odt.
 */
export function zipBombPackage(format: 'xlsx' | 'ods' | 'pptx' | 'odt', mebibytes: number): Buffer {
  const odf = (kind: string) => ({ mimetype: `application/vnd.oasis.opendocument.${kind}` });
  const ooxml = (main: string, part: string) => ({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      `<Override PartName="/${part}" ContentType="application/vnd.openxmlformats-officedocument.${main}"/></Types>`,
  });
  const packages = {
    xlsx: [ooxml('spreadsheetml.sheet.main+xml', 'xl/workbook.xml'), 'xl/worksheets/sheet1.xml'],
    pptx: [ooxml('presentationml.presentation.main+xml', 'ppt/presentation.xml'), 'ppt/slides/slide1.xml'],
    ods: [odf('spreadsheet'), 'content.xml'],
    odt: [odf('text'), 'content.xml'],
  } as const;
  const [others, name] = packages[format];
  return zipBomb({ name, open: '<x><t>', close: '</t></x>' }, others, mebibytes);
}
