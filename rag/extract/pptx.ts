// pptx: the package is opened with jszip (within the archive limit) and its PresentationML read
// with htmlparser2 in XML mode. Each slide is one section, located by its number (as `page`)
// and its title (as `heading`), holding its text in reading order (shapes, tables, grouped
// shapes) and then its speaker notes. Slides are taken in the presentation's order
// (ppt/presentation.xml), which need not be their part names' order.
import path from 'node:path/posix';
import type JSZip from 'jszip';
import { Parser } from 'htmlparser2';
import { CorruptDocumentError, DocumentError } from '../errors.ts';
import { coreProperties, entryText, openPackage } from './archive.ts';
import { assembleDocument, type ExtractedDocument, type SectionDraft } from './document.ts';
import type { ExtractionLimits } from './limits.ts';

/** Placeholders whose text is the slide's furniture, not its content. */
const FURNITURE = new Set(['sldNum', 'dt', 'hdr', 'ftr', 'sldImg']);
const TITLES = new Set(['title', 'ctrTitle']);

interface SlideText {
  readonly title: string | undefined;
  readonly paragraphs: readonly string[];
}

/**
 * The paragraphs of one slide or notes part, and the text of its title placeholder. A shape's
 * placeholder type is known from its `p:nvSpPr` before its text body comes.
 */
function readSlide(xml: string): SlideText {
  const paragraphs: string[] = [];
  const titles: string[] = [];
  // The placeholder type of each open p:sp, innermost last.
  const shapes: (string | null)[] = [];
  let paragraph: string[] | null = null;
  let inText = false;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'p:sp') shapes.push(null);
        else if (name === 'p:ph' && shapes.length > 0) shapes[shapes.length - 1] = attributes.type ?? 'body';
        else if (name === 'a:p') paragraph = [];
        else if (name === 'a:t') inText = true;
        else if ((name === 'a:br' || name === 'a:tab') && paragraph) paragraph.push(name === 'a:br' ? '\n' : '\t');
      },
      ontext(text) {
        if (inText && paragraph) paragraph.push(text);
      },
      onclosetag(name) {
        if (name === 'a:t') inText = false;
        else if (name === 'p:sp') shapes.pop();
        else if (name === 'a:p' && paragraph) {
          const text = paragraph.join('').trim();
          paragraph = null;
          const placeholder = shapes.at(-1) ?? null;
          if (text === '' || (placeholder !== null && FURNITURE.has(placeholder))) return;
          paragraphs.push(text);
          if (placeholder !== null && TITLES.has(placeholder)) titles.push(text);
        }
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.end(xml);
  return { title: titles.length > 0 ? titles.join(' ') : undefined, paragraphs };
}

/** `Id` → part name of the relationships of `part` (its `_rels/<name>.rels`), targets resolved against its folder. */
async function relationships(zip: JSZip, part: string): Promise<Map<string, { type: string; target: string }>> {
  const rels = await entryText(zip, path.join(path.dirname(part), '_rels', `${path.basename(part)}.rels`));
  const found = new Map<string, { type: string; target: string }>();
  if (rels === undefined) return found;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name !== 'Relationship' || !attributes.Id || !attributes.Target) return;
        if (attributes.TargetMode === 'External') return;
        const target = attributes.Target.startsWith('/')
          ? attributes.Target.slice(1)
          : path.normalize(path.join(path.dirname(part), attributes.Target));
        found.set(attributes.Id, { type: attributes.Type ?? '', target });
      },
    },
    { xmlMode: true },
  );
  parser.end(rels);
  return found;
}

/** The slides' part names in presentation order. */
async function slideParts(zip: JSZip, filename: string): Promise<string[]> {
  const presentation = 'ppt/presentation.xml';
  const xml = await entryText(zip, presentation);
  if (xml === undefined) throw new CorruptDocumentError(filename, 'pptx', 'the package has no ppt/presentation.xml');
  const ids: string[] = [];
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'p:sldId' && attributes['r:id']) ids.push(attributes['r:id']);
      },
    },
    { xmlMode: true },
  );
  parser.end(xml);
  const rels = await relationships(zip, presentation);
  return ids.flatMap((id) => {
    const target = rels.get(id)?.target;
    return target === undefined ? [] : [target];
  });
}

async function slideSection(zip: JSZip, part: string, number: number): Promise<SectionDraft> {
  const slide = readSlide((await entryText(zip, part)) ?? '');
  const notesPart = [...(await relationships(zip, part)).values()].find((rel) => rel.type.endsWith('/notesSlide'));
  const notesXml = notesPart && (await entryText(zip, notesPart.target));
  const notes = notesXml === undefined ? [] : readSlide(notesXml).paragraphs;
  const text = [...slide.paragraphs, ...(notes.length > 0 ? [`Notes: ${notes.join('\n')}`] : [])].join('\n');
  return { text, location: slide.title === undefined ? { page: number } : { page: number, heading: slide.title } };
}

export async function extractPptx(
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
): Promise<ExtractedDocument> {
  try {
    const zip = await openPackage(bytes, filename, 'pptx', limits);
    const parts = await slideParts(zip, filename);
    const sections: SectionDraft[] = [];
    for (const [index, part] of parts.entries()) sections.push(await slideSection(zip, part, index + 1));
    const core = await coreProperties(zip);
    return assembleDocument(filename, 'pptx', sections, { ...core, slides: parts.length });
  } catch (error) {
    if (error instanceof DocumentError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new CorruptDocumentError(filename, 'pptx', reason, { cause: error });
  }
}
