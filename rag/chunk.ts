// Splits an extracted document into chunks with LangChain's RecursiveCharacterTextSplitter, one
// section at a time, so that a chunk starts under one page or heading. Every chunk keeps its
// offsets into the document text: `text.slice(chunk.start, chunk.end) === chunk.text`.
//
// Chunks stand on their own (issue 9): a fragment shorter than `minChunkSize` (a title line
// before a long paragraph, the tail of a section, a heading with nothing under it) is merged
// into its neighbour, so no chunk is shorter than that except a whole short document. A
// fragment joins its own section's neighbour when it has one; a whole short section joins the
// section after it (a heading belongs with what follows), the last one the section before.
// A chunk may therefore reach `chunkSize + minChunkSize` characters. Each chunk also carries a
// contextual header, the document title and the nearest heading, which is indexed and embedded
// with the chunk (`indexedText`) but is not part of the text that answers quote.
//
// Splitting is CPU-bound: it yields to the event loop between sections, so that the caller's
// timers (an activity's heartbeats) keep running through a large document.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { TooManyChunksError } from './errors.ts';
import type { ExtractedDocument, SourceLocation } from './extract/document.ts';

export interface Chunk {
  /** 0-based position of the chunk in its document. */
  readonly index: number;
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly location: SourceLocation;
  /** The document title and the nearest heading; null when the document has neither. */
  readonly header: string | null;
}

export interface ChunkOptions {
  /** Maximum characters per chunk, before fragments are merged. */
  readonly chunkSize: number;
  /** Characters shared by neighbouring chunks of one section. */
  readonly chunkOverlap: number;
  /** Minimum characters per chunk, except a whole short document; chunkSize / 5 by default. */
  readonly minChunkSize?: number;
  /** The most chunks one document may split into; past it, TooManyChunksError. */
  readonly maxChunks?: number;
}

export type ChunkableDocument = Pick<ExtractedDocument, 'text' | 'sections'> & { readonly title?: string };

/** The minimum chunk size when none is given: a fifth of the maximum. */
export function defaultMinChunkSize(chunkSize: number): number {
  return Math.floor(chunkSize / 5);
}

/** The title, then the heading when it says something the title does not. */
export function contextualHeader(title: string | undefined, location: SourceLocation): string | null {
  const parts = [title?.trim(), location.heading?.trim()].filter((part): part is string => Boolean(part));
  const distinct = parts.filter((part, index) => parts.indexOf(part) === index);
  return distinct.length === 0 ? null : distinct.join('\n');
}

/** What is indexed and embedded for a chunk: its header, a blank line, its text. */
export function indexedText(chunk: { readonly header: string | null; readonly text: string }): string {
  return chunk.header === null ? chunk.text : `${chunk.header}\n\n${chunk.text}`;
}

interface Span {
  readonly start: number;
  readonly end: number;
  readonly location: SourceLocation;
}

const length = (span: Span) => span.end - span.start;

/** `first` and the span after it as one (they may overlap); it keeps the longer one's location. */
function join(first: Span, next: Span): Span {
  const location = length(next) > length(first) ? next.location : first.location;
  return { start: first.start, end: Math.max(first.end, next.end), location };
}

/**
 * Takes spans in document order and merges each one shorter than `min` into the next (or, at
 * the end, into the one before), as they come.
 */
class FragmentMerger {
  readonly merged: Span[] = [];
  private pending: Span | undefined;

  constructor(private readonly min: number) {}

  push(span: Span): void {
    const current = this.pending ? join(this.pending, span) : span;
    this.pending = undefined;
    if (length(current) < this.min) this.pending = current;
    else this.merged.push(current);
  }

  finish(): Span[] {
    if (this.pending) {
      const last = this.merged.pop();
      this.merged.push(last ? join(last, this.pending) : this.pending);
      this.pending = undefined;
    }
    return this.merged;
  }
}

export async function chunkDocument(document: ChunkableDocument, options: ChunkOptions): Promise<Chunk[]> {
  // keepSeparator (the default here) makes every chunk a verbatim, trimmed slice of its section.
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: options.chunkSize,
    chunkOverlap: options.chunkOverlap,
    keepSeparator: true,
  });
  const min = options.minChunkSize ?? defaultMinChunkSize(options.chunkSize);
  const documentWide = new FragmentMerger(min);
  for (const section of document.sections) {
    const withinSection = new FragmentMerger(min);
    let searchFrom = 0;
    for (const text of await splitter.splitText(section.text)) {
      const offset = section.text.indexOf(text, searchFrom);
      if (offset === -1) throw new Error(`a chunk of section ${section.start} is not a slice of it`);
      const start = section.start + offset;
      withinSection.push({ start, end: start + text.length, location: section.location });
      searchFrom = offset + 1;
    }
    for (const span of withinSection.finish()) documentWide.push(span);
    // Checked per section, so a huge document stops before all of it is split. Merging never
    // adds a chunk, so the count so far is a floor of the final one.
    if (options.maxChunks !== undefined && documentWide.merged.length > options.maxChunks) {
      throw new TooManyChunksError(options.maxChunks);
    }
    await yieldToEventLoop();
  }
  return documentWide.finish().map((span, index) => ({
    index,
    text: document.text.slice(span.start, span.end),
    start: span.start,
    end: span.end,
    location: span.location,
    header: contextualHeader(document.title, span.location),
  }));
}
