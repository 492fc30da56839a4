// HTML through html-to-text (LangChain's HTML loader fetches URLs, so the library is used
// directly). Headings are marked while converting, then open sections; <title> is the title.
import { convert, type FormatCallback, type HtmlToTextOptions } from 'html-to-text';
import { decodeUtf8 } from './decode.ts';
import { assembleDocument, type DocumentFormat, type ExtractedDocument } from './document.ts';
import { firstTitle, sectionsByHeading, type HeadedLine } from './headings.ts';

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

const TITLE = /<title[^>]*>([\s\S]*?)<\/title>/i;

/** Plain text of an HTML fragment, without heading marks (for mail bodies and titles). */
export function htmlToPlainText(html: string): string {
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
export function documentFromHtml(html: string, filename: string, format: DocumentFormat): ExtractedDocument {
  const lines = htmlLines(html);
  const titleHtml = TITLE.exec(html)?.[1];
  const title = (titleHtml === undefined ? undefined : htmlToPlainText(titleHtml).trim()) || firstTitle(lines);
  return assembleDocument(filename, format, sectionsByHeading(lines), { title });
}

export function extractHtml(bytes: Uint8Array, filename: string): ExtractedDocument {
  return documentFromHtml(decodeUtf8(bytes, filename, 'html'), filename, 'html');
}
