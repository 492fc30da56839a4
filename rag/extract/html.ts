// HTML through html-to-text (LangChain's HTML loader fetches URLs, so the library is used
// directly). Headings are marked while converting, then open sections; <title> is the title.
import { Parser } from 'htmlparser2';
import { convert, type FormatCallback, type HtmlToTextOptions } from 'html-to-text';
import { decodeText, encodingMetadata } from './decode.ts';
import { assembleDocument, type DocumentFormat, type ExtractedDocument } from './document.ts';
import { firstTitle, sectionsByHeading, type HeadedLine } from './headings.ts';
import { tooDeep, type ExtractionLimits } from './limits.ts';

// A private-use character cannot occur in real text; it prefixes each heading line, with its level.
const HEADING_MARK = '\uE000';

const markHeading: FormatCallback = (elem, walk, builder) => {
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addLiteral(`${HEADING_MARK}${elem.name?.slice(1) ?? '1'}`);
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 2 });
};

const options: HtmlToTextOptions = {
  wordwrap: false,
  formatters: { markHeading },
  selectors: [
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, format: 'markHeading' })),
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'table', format: 'dataTable' },
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
  return assembleDocument(filename, format, sectionsByHeading(lines), {
    title: title || firstTitle(lines),
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
