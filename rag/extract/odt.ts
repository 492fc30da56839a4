// odt: the package is opened with jszip (within the archive limit) and its content.xml read with
// htmlparser2 in XML mode. Every heading (text:h) starts a section located by it; so does every
// page, when the writer recorded where pages break (text:soft-page-break, as LibreOffice does
// with text:use-soft-page-breaks), and then sections carry their page as well. Paragraphs,
// list items and table cells are lines of their section; tracked deletions and comments are
// left out.
import type JSZip from 'jszip';
import { Parser } from 'htmlparser2';
import { CorruptDocumentError, DocumentError, EncryptedDocumentError } from '../errors.ts';
import { entryText, isEncryptedOdf, openPackage, packageProperties } from './archive.ts';
import { assembleDocument, type ExtractedDocument, type SectionDraft, type SourceLocation } from './document.ts';
import type { ExtractionLimits } from './limits.ts';

/** Elements whose text is not the document's: deleted text of tracked changes, comments, note marks. */
const SKIPPED = new Set(['text:tracked-changes', 'office:annotation', 'text:note-citation', 'text:sequence-decls']);
const BLOCKS = new Set(['text:p', 'text:h']);

interface Draft {
  heading: string | undefined;
  page: number | undefined;
  lines: string[];
}

function readContent(xml: string): SectionDraft[] {
  const sections: Draft[] = [{ heading: undefined, page: undefined, lines: [] }];
  const current = () => sections[sections.length - 1]!;
  const start = (heading: string | undefined, page: number | undefined) => {
    if (current().lines.length === 0) sections.pop();
    sections.push({ heading, page, lines: [] });
  };
  let page: number | undefined;
  let skipping = 0;
  // The text of each open paragraph or heading, innermost last (a note's body nests in its paragraph).
  const blocks: { heading: boolean; text: string[] }[] = [];
  const append = (text: string) => {
    if (skipping === 0) blocks.at(-1)?.text.push(text);
  };
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (SKIPPED.has(name)) skipping += 1;
        if (skipping > 0) return;
        if (name === 'office:text' && attributes['text:use-soft-page-breaks'] === 'true') page = 1;
        else if (name === 'text:soft-page-break' && page !== undefined) {
          page += 1;
          start(current().heading, page);
        } else if (BLOCKS.has(name)) blocks.push({ heading: name === 'text:h', text: [] });
        else if (name === 'text:s') append(' '.repeat(Math.min(Number(attributes['text:c'] ?? 1) || 1, 100)));
        else if (name === 'text:tab') append('\t');
        else if (name === 'text:line-break') append('\n');
      },
      ontext(text) {
        append(text);
      },
      onclosetag(name) {
        if (SKIPPED.has(name)) {
          skipping -= 1;
          return;
        }
        if (skipping > 0 || !BLOCKS.has(name)) return;
        const block = blocks.pop();
        const text = block?.text.join('').trim() ?? '';
        if (text === '') return;
        if (block?.heading) start(text, page);
        current().lines.push(text);
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.end(xml);
  return sections.map(({ heading, page: onPage, lines }) => {
    const location: SourceLocation = {
      ...(onPage === undefined ? {} : { page: onPage }),
      ...(heading === undefined ? {} : { heading }),
    };
    return { text: lines.join('\n'), location };
  });
}

/** The title and author an OpenDocument's meta.xml states, when it does. */
function metaProperties(zip: JSZip): Promise<{ title?: string; author?: string }> {
  return packageProperties(zip, 'meta.xml', { 'dc:title': 'title', 'meta:initial-creator': 'author' });
}

export async function extractOdt(
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
): Promise<ExtractedDocument> {
  let sections: SectionDraft[];
  let meta: { title?: string; author?: string };
  try {
    const zip = await openPackage(bytes, filename, 'odt', limits);
    if (await isEncryptedOdf(zip)) throw new EncryptedDocumentError(filename, 'odt');
    const content = await entryText(zip, 'content.xml');
    if (content === undefined) throw new CorruptDocumentError(filename, 'odt', 'the package has no content.xml');
    sections = readContent(content);
    meta = await metaProperties(zip);
  } catch (error) {
    if (error instanceof DocumentError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new CorruptDocumentError(filename, 'odt', reason, { cause: error });
  }
  const pages = sections.reduce((most, section) => Math.max(most, section.location.page ?? 0), 0);
  return assembleDocument(filename, 'odt', sections, { ...meta, ...(pages > 0 ? { pages } : {}) });
}
