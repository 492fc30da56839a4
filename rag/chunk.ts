// Splits an extracted document into chunks with LangChain's RecursiveCharacterTextSplitter, one
// section at a time, so a chunk never spans two pages or two headings. Every chunk keeps its
// offsets into the document text: `text.slice(chunk.start, chunk.end) === chunk.text`.
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
}

export interface ChunkOptions {
  /** Maximum characters per chunk. */
  readonly chunkSize: number;
  /** Characters shared by neighbouring chunks of one section. */
  readonly chunkOverlap: number;
  /** The most chunks one document may split into; past it, TooManyChunksError. */
  readonly maxChunks?: number;
}

export async function chunkDocument(
  document: Pick<ExtractedDocument, 'sections'>,
  options: ChunkOptions,
): Promise<Chunk[]> {
  // keepSeparator (the default here) makes every chunk a verbatim, trimmed slice of its section.
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: options.chunkSize,
    chunkOverlap: options.chunkOverlap,
    keepSeparator: true,
  });
  const chunks: Chunk[] = [];
  for (const section of document.sections) {
    let searchFrom = 0;
    for (const text of await splitter.splitText(section.text)) {
      const offset = section.text.indexOf(text, searchFrom);
      if (offset === -1) throw new Error(`chunk ${chunks.length} is not a slice of its section`);
      const start = section.start + offset;
      chunks.push({ index: chunks.length, text, start, end: start + text.length, location: section.location });
      searchFrom = offset + 1;
    }
    // Checked per section, so a huge document stops before all of it is split.
    if (options.maxChunks !== undefined && chunks.length > options.maxChunks) {
      throw new TooManyChunksError(options.maxChunks);
    }
    await yieldToEventLoop();
  }
  return chunks;
}
