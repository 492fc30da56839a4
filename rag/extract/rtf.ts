// rtf: tokenized by rtf-stream-parser's Tokenize (control words with their parameters, \'hh and
// \binN data, text runs as bytes) and interpreted here. The library's own readers do not fit:
// DeEncapsulate reads only the HTML or text Outlook encapsulates in RTF, and ToPlainText (not
// exported) keeps the \info group's text and pictures' hex, and ends a paragraph at \line.
//
// What is kept: the body's paragraphs (\par, \row, \sect, \page end one; \line breaks a line,
// \tab and \cell are tabs), field results (a hyperlink's text), list numbers, and footnotes,
// gathered after the body. Bytes (\'hh escapes and 8-bit text) are decoded in the code page of
// the font they are set in (its \cpg, or its \fcharset: a Czech font in a \ansicpg1252 file is
// windows-1250), else the document's \ansicpg; \uN is the UTF-16 unit N, with the \ucN
// fallback characters after it skipped. Left out: the font, colour and style tables, \info
// (its \title and \author become metadata), pictures, objects' data, headers and footers,
// and every \*\ destination, which a reader may skip by definition (field instructions,
// bookmarks, themes); Word's \upr pairs are read from their Unicode \*\ud half.
//
// A paragraph in a style whose \outlinelevel is set, or named "heading N" (Word's and
// LibreOffice's heading styles), or with its own \outlinelevel, is a heading: it starts a
// section located by it.
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { Tokenize } from 'rtf-stream-parser';
import { CorruptDocumentError } from '../errors.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';
import { sectionsByHeading, type HeadedLine } from './headings.ts';
import { textTooLarge, tooDeep, type ExtractionLimits } from './limits.ts';

// rtf-stream-parser's TokenType is a const enum, which isolated modules cannot read.
const GROUP_START = 0;
const GROUP_END = 1;
const CONTROL = 2;
const TEXT = 3;

interface RtfToken {
  readonly type: number;
  readonly word?: string;
  readonly param?: number;
  readonly data?: Buffer;
}

/** Where a group's text goes. */
type Destination =
  | 'body'
  | 'footnote'
  | 'skip'
  | 'fonttbl'
  /** An entry of the font table. */
  | 'font'
  | 'stylesheet'
  /** An entry of the stylesheet. */
  | 'style'
  | 'info'
  | 'title'
  | 'author'
  /** Word 97's {\upr{ANSI text}{\*\ud{Unicode text}}}: the ANSI half is skipped. */
  | 'upr';

interface GroupState {
  destination: Destination;
  /** For an \upr group: where its \*\ud half's text goes. */
  uprOuter: Destination;
  /** \ucN: how many fallback characters follow each \uN. */
  uc: number;
  font: number | undefined;
  /** Paragraph properties: \sN and \outlinelevelN. */
  style: number;
  outline: number | undefined;
}

/** Destinations whose content is not the document's text. */
const SKIPPED = new Set([
  'colortbl',
  'pict',
  'objdata',
  'header',
  'headerl',
  'headerr',
  'headerf',
  'footer',
  'footerl',
  'footerr',
  'footerf',
  'fldinst',
  'xe',
  'tc',
  'txe',
  'rxe',
  'bkmkstart',
  'bkmkend',
  'filetbl',
  'revtbl',
  'rsidtbl',
  'listtable',
  'listoverridetable',
  'generator',
  'template',
  'docvar',
  'datafield',
  'nonshppict',
  'themedata',
  'colorschememapping',
  'latentstyles',
  'datastore',
  'xmlnstbl',
  'pgdsctbl',
]);

/** \info's parts that become metadata; the others (dates, counts, keywords) are skipped. */
const INFO_PARTS: Readonly<Record<string, Destination>> = { title: 'title', author: 'author' };

/** Control words that end a paragraph in the body. */
const PARAGRAPH_ENDS = new Set(['par', 'row', 'sect', 'page', '\n', '\r']);

/** Control words and symbols that stand for a character. */
const CHARACTERS: Readonly<Record<string, string>> = {
  line: '\n',
  tab: '\t',
  cell: '\t',
  nestcell: '\t',
  emdash: '\u2014',
  endash: '\u2013',
  emspace: '\u2003',
  enspace: '\u2002',
  qmspace: '\u2005',
  bullet: '\u2022',
  lquote: '\u2018',
  rquote: '\u2019',
  ldblquote: '\u201c',
  rdblquote: '\u201d',
  '~': '\u00a0',
  _: '\u2011',
  '\\': '\\',
  '{': '{',
  '}': '}',
};

/** The Windows code page of each \fcharset (0, the ANSI charset, and 1, the default: the document's). */
const CHARSET_CODE_PAGES: Readonly<Record<number, number>> = {
  77: 10000,
  128: 932,
  129: 949,
  130: 1361,
  134: 936,
  136: 950,
  161: 1253,
  162: 1254,
  163: 1258,
  177: 1255,
  178: 1256,
  186: 1257,
  204: 1251,
  222: 874,
  238: 1250,
  254: 437,
  255: 850,
};

/** The code page of \ansi, \mac, \pc and \pca, which \ansicpg refines. */
const CHARACTER_SET_CODE_PAGES: Readonly<Record<string, number>> = { ansi: 1252, mac: 10000, pc: 437, pca: 850 };

interface FontEntry {
  charset?: number;
  codePage?: number;
}

interface StyleEntry {
  id: number;
  outline: number | undefined;
  name: string;
}

interface Paragraph {
  readonly text: string;
  /** The outline level (0 for a top heading) when the paragraph is a heading. */
  readonly level: number | undefined;
}

/** iconv-lite's name for a Windows code page. */
function encodingOf(codePage: number): string {
  if (codePage === 10000) return 'macintosh';
  if (codePage === 1361) return 'cp1361';
  return iconv.encodingExists(`cp${codePage}`) ? `cp${codePage}` : 'cp1252';
}

/** A \binN longer than the file cannot be real, and the tokenizer would allocate N bytes for it. */
function checkBinaryLengths(bytes: Uint8Array, filename: string): void {
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  for (const match of source.matchAll(/\\bin(\d+)/g)) {
    if (Number(match[1]) > bytes.length) {
      throw new CorruptDocumentError(filename, 'rtf', `\\bin${match[1]} claims more bytes than the file holds`);
    }
  }
}

class Interpreter {
  private readonly stack: GroupState[] = [];
  private state: GroupState | undefined;
  private codePage = 1252;
  private defaultFont: number | undefined;
  private readonly fonts = new Map<number, FontEntry>();
  private fontEntry: FontEntry | undefined;
  private readonly styles = new Map<number, StyleEntry>();
  private styleEntry: StyleEntry | undefined;
  /** Bytes waiting to be decoded together (a double-byte character comes as two \'hh). */
  private pending: { bytes: number[]; codePage: number; destination: Destination } | undefined;
  private paragraph = '';
  private footnote = '';
  readonly body: Paragraph[] = [];
  readonly footnotes: string[] = [];
  readonly info = { title: '', author: '' };
  private textLength = 0;
  /** Fallback characters still to skip after a \uN. */
  private skip = 0;
  /** The group just opened has not yet shown whether it is a destination. */
  private opening = false;
  private starred = false;
  private ended = false;

  constructor(
    private readonly filename: string,
    private readonly limits: ExtractionLimits,
  ) {}

  handle(token: RtfToken): void {
    if (this.ended) return;
    if (this.state === undefined) {
      if (this.stack.length === 0 && token.type === GROUP_START) {
        this.stack.push(this.root());
        return;
      }
      if (this.stack.length === 1 && token.type === CONTROL && token.word === 'rtf') {
        this.state = this.stack[0]!;
        return;
      }
      throw new CorruptDocumentError(this.filename, 'rtf', 'the file does not start with {\\rtf');
    }
    if (token.type === GROUP_START) return this.open();
    if (token.type === GROUP_END) return this.close();
    if (token.type === CONTROL) return this.control(token.word ?? '', token.param, token.data);
    this.opening = false;
    if (token.type === TEXT && token.data) this.text(token.data);
  }

  /** Called at the end of the file: unless the document's group was closed, the file is cut short. */
  finish(): void {
    if (!this.ended) {
      const open = this.stack.length;
      throw new CorruptDocumentError(
        this.filename,
        'rtf',
        open === 0
          ? 'the file holds no RTF group'
          : `the file ends inside ${open} unclosed group${open === 1 ? '' : 's'}: it is truncated`,
      );
    }
  }

  private root(): GroupState {
    return { destination: 'body', uprOuter: 'body', uc: 1, font: undefined, style: 0, outline: undefined };
  }

  private get current(): GroupState {
    return this.state!;
  }

  private open(): void {
    this.flushBytes();
    this.skip = 0;
    if (this.stack.length >= this.limits.maxNestingDepth) throw tooDeep(this.filename, 'rtf', this.limits);
    const parent = this.current;
    this.state = { ...parent };
    this.stack.push(this.state);
    this.opening = true;
    this.starred = false;
    if (parent.destination === 'fonttbl') {
      this.state.destination = 'font';
      this.fontEntry = {};
    } else if (parent.destination === 'stylesheet') {
      this.state.destination = 'style';
      this.styleEntry = { id: 0, outline: undefined, name: '' };
    }
  }

  private close(): void {
    this.flushBytes();
    this.skip = 0;
    this.opening = false;
    const closed = this.stack.pop()!;
    const parent = this.stack.at(-1);
    if (closed.destination === 'style' && parent?.destination === 'stylesheet' && this.styleEntry) {
      this.styles.set(this.styleEntry.id, this.styleEntry);
      this.styleEntry = undefined;
    }
    if (closed.destination === 'footnote' && parent?.destination !== 'footnote') this.endFootnote();
    if (parent === undefined) {
      this.endParagraph();
      this.ended = true;
      return;
    }
    this.state = parent;
  }

  /** A group's first control word may make it a destination. */
  private destination(word: string): boolean {
    if (!this.opening) return false;
    if (word === '*') {
      this.starred = true;
      return true;
    }
    this.opening = false;
    const state = this.current;
    const parent = this.stack.at(-2)!;
    let destination: Destination | undefined;
    if (this.starred) destination = word === 'ud' && parent.destination === 'upr' ? parent.uprOuter : 'skip';
    else if (SKIPPED.has(word)) destination = 'skip';
    else if (word === 'upr') {
      state.uprOuter = state.destination;
      destination = 'upr';
    } else if (word === 'fonttbl' || word === 'stylesheet' || word === 'info') destination = word;
    else if (parent.destination === 'info') destination = INFO_PARTS[word] ?? 'skip';
    else if (word === 'footnote') destination = state.destination === 'body' ? 'footnote' : state.destination;
    if (destination === undefined) return false;
    state.destination = destination;
    return true;
  }

  private control(word: string, param: number | undefined, data: Buffer | undefined): void {
    if (this.destination(word)) return;
    const state = this.current;
    if (word !== "'" && word !== 'u') this.flushBytes();
    if (this.skip > 0) {
      this.skip -= 1;
      return;
    }
    switch (state.destination) {
      case 'skip':
      case 'upr':
        return;
      case 'fonttbl':
      case 'font':
        return this.fontControl(word, param);
      case 'stylesheet':
      case 'style':
        return this.styleControl(word, param, data);
      default:
    }
    if (word === 'ansicpg' && param !== undefined && param > 0) this.codePage = param;
    else if (word in CHARACTER_SET_CODE_PAGES) this.codePage = CHARACTER_SET_CODE_PAGES[word]!;
    else if (word === 'deff') this.defaultFont = param;
    else if (word === 'f') state.font = param;
    else if (word === 'plain') state.font = this.defaultFont;
    else if (word === 'uc') state.uc = Math.max(0, param ?? 1);
    else if (word === 'pard') {
      state.style = 0;
      state.outline = undefined;
    } else if (word === 's') state.style = param ?? 0;
    else if (word === 'outlinelevel') state.outline = param;
    else if (word === "'" && data) this.bytes(data);
    else if (word === 'u' && param !== undefined) {
      this.write(String.fromCharCode(param < 0 ? param + 0x10000 : param));
      this.skip = state.uc;
    } else if (PARAGRAPH_ENDS.has(word)) this.endParagraph();
    else if (word in CHARACTERS) this.write(CHARACTERS[word]!);
  }

  private fontControl(word: string, param: number | undefined): void {
    if (word === 'f' && param !== undefined) {
      // Entries without groups of their own ({\fonttbl\f0\fswiss Helvetica;\f1 …}) start at \f.
      this.fontEntry ??= {};
      this.fonts.set(param, this.fontEntry);
    } else if (word === 'fcharset' && this.fontEntry) this.fontEntry.charset = param;
    else if (word === 'cpg' && this.fontEntry && param) this.fontEntry.codePage = param;
  }

  private styleControl(word: string, param: number | undefined, data: Buffer | undefined): void {
    const entry = this.styleEntry;
    if (!entry) return;
    if (word === 's') entry.id = param ?? 0;
    else if (word === 'outlinelevel') entry.outline = param;
    else if (word === "'" && data) entry.name += data.toString('latin1');
  }

  private text(data: Buffer): void {
    let bytes = data;
    if (this.skip > 0) {
      const skipped = Math.min(this.skip, bytes.length);
      this.skip -= skipped;
      bytes = bytes.subarray(skipped);
    }
    if (bytes.length === 0) return;
    const state = this.current;
    if (state.destination === 'fonttbl' || state.destination === 'font') {
      // A font's name ends with ';': the next entry of a group-less table starts after it.
      if (state.destination === 'fonttbl' && bytes.includes(0x3b)) this.fontEntry = undefined;
      return;
    }
    if (state.destination === 'stylesheet' || state.destination === 'style') {
      if (this.styleEntry) this.styleEntry.name += bytes.toString('latin1');
      return;
    }
    this.bytes(bytes);
  }

  /** The code page that bytes in the current font are written in. */
  private fontCodePage(): number {
    const font = this.fonts.get(this.current.font ?? this.defaultFont ?? -1);
    if (font?.codePage !== undefined) return font.codePage;
    const fromCharset = font?.charset === undefined ? undefined : CHARSET_CODE_PAGES[font.charset];
    return fromCharset ?? this.codePage;
  }

  private bytes(data: Buffer): void {
    const destination = this.current.destination;
    if (!this.collects(destination)) return;
    const codePage = this.fontCodePage();
    if (this.pending && (this.pending.codePage !== codePage || this.pending.destination !== destination)) {
      this.flushBytes();
    }
    this.pending ??= { bytes: [], codePage, destination };
    for (const byte of data) this.pending.bytes.push(byte);
  }

  private flushBytes(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    // A byte the code page cannot map (a lone lead byte of a double-byte code page, such as
    // LibreOffice's bullet in a font it marks Shift_JIS) says nothing: it is dropped.
    const text = iconv.decode(Buffer.from(pending.bytes), encodingOf(pending.codePage)).replaceAll('\ufffd', '');
    this.append(pending.destination, text);
  }

  private collects(destination: Destination): boolean {
    return destination === 'body' || destination === 'footnote' || destination === 'title' || destination === 'author';
  }

  private write(text: string): void {
    const destination = this.current.destination;
    if (!this.collects(destination)) return;
    this.flushBytes();
    this.append(destination, text);
  }

  private append(destination: Destination, text: string): void {
    this.textLength += text.length;
    if (this.textLength > this.limits.maxTextBytes) throw textTooLarge(this.filename, 'rtf', this.limits);
    if (destination === 'body') this.paragraph += text;
    else if (destination === 'footnote') this.footnote += text;
    else if (destination === 'title') this.info.title += text;
    else if (destination === 'author') this.info.author += text;
  }

  private endParagraph(): void {
    this.flushBytes();
    if (this.current.destination === 'footnote') {
      this.footnote += '\n';
      return;
    }
    if (this.current.destination !== 'body') return;
    const text = this.paragraph.trim();
    this.paragraph = '';
    if (text === '') return;
    this.body.push({ text, level: this.outlineLevel() });
  }

  private endFootnote(): void {
    this.flushBytes();
    const text = this.footnote.trim();
    this.footnote = '';
    if (text !== '') this.footnotes.push(text);
  }

  /** The current paragraph's outline level, when it is a heading. */
  private outlineLevel(): number | undefined {
    const { style, outline } = this.current;
    if (outline !== undefined && outline < 9) return outline;
    const entry = this.styles.get(style);
    if (entry?.outline !== undefined && entry.outline < 9) return entry.outline;
    const named = /^\s*heading\s+(\d)/i.exec(entry?.name ?? '');
    return named ? Number(named[1]) - 1 : undefined;
  }
}

const BACKSLASH = 0x5c;
const CR = 0x0d;
const LF = 0x0a;
const isLetter = (byte: number) => (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
const isParameter = (byte: number) => (byte >= 0x30 && byte <= 0x39) || byte === 0x2d;

/** Whether `\bin` followed by a digit starts at `at`. */
function isBin(bytes: Uint8Array, at: number): boolean {
  const digit = bytes[at + 3];
  return (
    bytes[at] === 0x62 &&
    bytes[at + 1] === 0x69 &&
    bytes[at + 2] === 0x6e &&
    digit !== undefined &&
    digit >= 0x30 &&
    digit <= 0x39
  );
}

/**
 * The bytes without the line breaks RTF ignores. Tokenize copies its text token whole at each
 * one, so a picture's hex (broken every 128 bytes) cost seconds a megabyte. A break that ends a
 * control word becomes the space that delimits it, one after a backslash (a \par) is kept, and
 * so is the data of a \binN.
 */
function withoutLineBreaks(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  let inWord = false;
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index]!;
    if (byte === CR || byte === LF) {
      if (inWord) out[length++] = 0x20;
      inWord = false;
      continue;
    }
    if (inWord && !isLetter(byte) && !isParameter(byte)) inWord = false;
    out[length++] = byte;
    if (byte !== BACKSLASH || index + 1 >= bytes.length) continue;
    const next = bytes[index + 1]!;
    if (!isLetter(next)) {
      // A control symbol (\\, \{, \', \<line break>…): its character is copied as it is.
      out[length++] = next;
      index += 1;
      continue;
    }
    inWord = true;
    const bin = isBin(bytes, index + 1)
      ? /^bin(\d+) ?/.exec(Buffer.from(bytes.subarray(index + 1, index + 25)).toString('latin1'))
      : null;
    if (bin) {
      const end = Math.min(bytes.length, index + 1 + bin[0].length + Number(bin[1]));
      out.set(bytes.subarray(index + 1, end), length);
      length += end - index - 1;
      index = end - 1;
      inWord = false;
    }
  }
  return out.subarray(0, length);
}

const SLICE_BYTES = 64 * 1024;

function* slices(bytes: Uint8Array): Generator<Buffer> {
  for (let start = 0; start < bytes.length; start += SLICE_BYTES) {
    yield Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(SLICE_BYTES, bytes.length - start));
  }
}

async function interpret(bytes: Uint8Array, filename: string, limits: ExtractionLimits): Promise<Interpreter> {
  checkBinaryLengths(bytes, filename);
  const interpreter = new Interpreter(filename, limits);
  // Fed in slices, so that backpressure holds the tokens waiting to be read to a slice's worth
  // (one chunk of a whole file would be turned into all its tokens at once).
  const tokens = Readable.from(slices(withoutLineBreaks(bytes))).pipe(new Tokenize());
  for await (const token of tokens as AsyncIterable<RtfToken>) interpreter.handle(token);
  interpreter.finish();
  return interpreter;
}

export async function extractRtf(
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
): Promise<ExtractedDocument> {
  const { body, footnotes, info } = await interpret(bytes, filename, limits);
  const lines: HeadedLine[] = body.map(({ text, level }) =>
    level === undefined ? { text } : { text, heading: { text, level } },
  );
  const sections = sectionsByHeading(lines);
  if (footnotes.length > 0) sections.push({ text: footnotes.join('\n'), location: { heading: 'Footnotes' } });
  return assembleDocument(filename, 'rtf', sections, { title: info.title, author: info.author });
}
