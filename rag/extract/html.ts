// HTML through html-to-text (LangChain's HTML loader fetches URLs, so the library is used
// directly). Headings are marked while converting, then open sections. Tables become rows that
// keep their header (html-tables.ts); 10<sup>24</sup> becomes 10^24 and H<sub>2</sub>O H_2O.
// <title> is the title, and is indexed as the first line unless the page opens with it.
// What a browser would not show as text (<noscript>, <template>, <svg>, progress bars,
// `hidden` elements) is skipped, and a page whose body holds no letter at all (an app shell of
// scripts and a loading spinner, "- - - 0%") is empty: its title alone is not a document.
import { Parser } from 'htmlparser2';
import { convert, type FormatCallback, type HtmlToTextOptions } from 'html-to-text';
import { EmptyDocumentError } from '../errors.ts';
import { decodeText, encodingMetadata } from './decode.ts';
import { assembleDocument, type DocumentFormat, type ExtractedDocument, type SectionDraft } from './document.ts';
import { firstTitle, sectionsByHeading, type HeadedLine } from './headings.ts';
import { formatRowTable } from './html-tables.ts';
import { tooDeep, type ExtractionLimits } from './limits.ts';

// A private-use character cannot occur in real text; it prefixes each heading line, with its level.
const HEADING_MARK = '\uE000';

const markHeading: FormatCallback = (elem, walk, builder) => {
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addLiteral(`${HEADING_MARK}${elem.name?.slice(1) ?? '1'}`);
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 2 });
};

/** An inline mark, then the element's text: keeps 10<sup>24</sup> from reading as 1024. */
const marked =
  (mark: string): FormatCallback =>
  (elem, walk, builder) => {
    builder.addInline(mark);
    walk(elem.children, builder);
  };

const NOT_SHOWN = ['noscript', 'template', 'svg', 'canvas', 'progress', 'meter', '[hidden]', '[aria-hidden="true"]'];

const options: HtmlToTextOptions = {
  wordwrap: false,
  formatters: { markHeading, formatRowTable, superscript: marked('^'), subscript: marked('_') },
  selectors: [
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, format: 'markHeading' })),
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'table', format: 'formatRowTable' },
    { selector: 'sup', format: 'superscript' },
    { selector: 'sub', format: 'subscript' },
    ...NOT_SHOWN.map((selector) => ({ selector, format: 'skip' })),
  ],
};

/**
 * Reads the HTML once with htmlparser2, the parser html-to-text builds its tree with, so that
 * nesting deeper than the limit is refused before html-to-text walks the tree recursively (100k
 * nested <div> overflowed its stack), and takes the text of the first <title> on the way (a
 * regular expression for it took quadratic time over many unclosed <title> tags).
 */
function inspectHtml(
  html: string,
  filename: string,
  format: DocumentFormat,
  limits: ExtractionLimits,
): { title: string | undefined } {
  let depth = 0;
  let title: string | undefined;
  let titleText: string | undefined;
  const parser = new Parser({
    onopentag(name) {
      depth += 1;
      if (depth > limits.maxNestingDepth) throw tooDeep(filename, format, limits);
      if (name === 'title' && title === undefined) titleText = '';
    },
    ontext(text) {
      if (titleText !== undefined) titleText += text;
    },
    onclosetag(name) {
      depth -= 1;
      if (name === 'title' && titleText !== undefined) {
        title = titleText.replace(/\s+/g, ' ').trim();
        titleText = undefined;
      }
    },
  });
  parser.end(html);
  return { title };
}

/** Plain text of an HTML mail body, without heading marks. */
export function htmlToPlainText(
  html: string,
  filename: string,
  format: DocumentFormat,
  limits: ExtractionLimits,
): string {
  inspectHtml(html, filename, format, limits);
  return convert(html, options).replaceAll(new RegExp(`${HEADING_MARK}\\d`, 'g'), '');
}

function htmlLines(html: string): HeadedLine[] {
  return convert(html, options)
    .split('\n')
    .map((line) => {
      if (!line.startsWith(HEADING_MARK)) return { text: line };
      const text = line.slice(2).trim();
      return { text, heading: { text, level: Number(line[1]) } };
    });
}

const comparable = (text: string) => text.replace(/\s+/g, ' ').trim().toLowerCase();

/** The <title> as a section of its own, unless the page's first line or top heading says it. */
function titleSection(title: string | undefined, lines: readonly HeadedLine[]): SectionDraft[] {
  if (!title) return [];
  const firstLine = lines.find((line) => line.text.trim() !== '')?.text ?? '';
  const said = [firstLine, firstTitle(lines) ?? ''].map(comparable);
  return said.includes(comparable(title)) ? [] : [{ text: title, location: {} }];
}

/** Shared by the html and docx extractors (mammoth renders a docx as HTML). */
export function documentFromHtml(
  html: string,
  filename: string,
  format: DocumentFormat,
  limits: ExtractionLimits,
  metadata: Record<string, string | number> = {},
): ExtractedDocument {
  const { title } = inspectHtml(html, filename, format, limits);
  const lines = htmlLines(html);
  if (format === 'html' && !lines.some((line) => /\p{L}/u.test(line.text))) {
    throw new EmptyDocumentError(filename, format);
  }
  const heading = firstTitle(lines);
  return assembleDocument(filename, format, [...titleSection(title, lines), ...sectionsByHeading(lines)], {
    title: title || heading,
    ...metadata,
  });
}

const META_CHARSET = /<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([\w.:-]+)/i;
const XML_ENCODING = /^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([\w.:-]+)/;

/**
 * The encoding a page declares in its first 1024 bytes, as browsers look for it: a <meta
 * charset>, a <meta http-equiv="Content-Type" content="…; charset=…">, or an XML declaration.
 * A page declaring UTF-16 in ASCII is not UTF-16, and the HTML standard reads it as UTF-8.
 */
function declaredCharset(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  const label = META_CHARSET.exec(head)?.[1] ?? XML_ENCODING.exec(head)?.[1];
  return label !== undefined && /^(?:utf-16|ucs-2|unicode)/i.test(label) ? 'utf-8' : label;
}

export function extractHtml(
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
  charset: string | undefined,
): ExtractedDocument {
  const decoded = decodeText(bytes, filename, 'html', { charset, declared: declaredCharset(bytes) });
  return documentFromHtml(decoded.text, filename, 'html', limits, encodingMetadata(decoded));
}
