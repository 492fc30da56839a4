// A chunk as a search leg returns it: where it comes from, its text and location, and the
// leg's own score. Both legs select the same columns, so their lists fuse item for item.
import { sql } from 'slonik';
import { z } from 'zod';

export const ChunkHit = z.object({
  chunkId: z.uuid(),
  documentId: z.uuid(),
  version: z.number().int(),
  title: z.string(),
  text: z.string(),
  page: z.number().int().nullable(),
  heading: z.string().nullable(),
  startOffset: z.number().int(),
  endOffset: z.number().int(),
  /** The leg's score: cosine similarity (dense) or BM25 (lexical); higher is better. */
  score: z.number(),
});
export type ChunkHit = z.infer<typeof ChunkHit>;

export const hitColumns = sql.fragment`
  c.id AS "chunkId", c.document_id AS "documentId", c.version, d.title, c.content AS text, c.page, c.heading,
  c.start_offset AS "startOffset", c.end_offset AS "endOffset"
`;

export const ChunkLocation = z.object({
  page: z.number().int().nullable(),
  heading: z.string().nullable(),
  startOffset: z.number().int(),
  endOffset: z.number().int(),
});
export type ChunkLocation = z.infer<typeof ChunkLocation>;

export function locationOf(hit: Pick<ChunkHit, 'page' | 'heading' | 'startOffset' | 'endOffset'>): ChunkLocation {
  return { page: hit.page, heading: hit.heading, startOffset: hit.startOffset, endOffset: hit.endOffset };
}
