// Contract of POST /v1/search, and the shapes /v1/ask shares with it: the filters, a chunk's
// location, and a search result with the score of each leg.
import { z } from 'zod';
import { DOCUMENT_SOURCES, documentSourcesOf, SEARCH_SOURCES, type SearchSource } from '../../../contract/documents.ts';
import { ChunkLocation as ChunkLocationRow, MailSource as MailSourceRow } from '../../../db/queries/search/hits.ts';
import type { SearchFilters } from '../../../db/queries/search/filters.ts';
import { SEARCH_COLLAPSES, SEARCH_MODES } from '../../../contract/search.ts';
import type { Contract } from '../../openapi/contract.ts';
import { Timestamp, Uuid } from '../../schemas.ts';

const Tag = z.string().trim().min(1).max(100);
const Tags = z.array(Tag).min(1).max(50);

const SearchSourceName = z.enum(SEARCH_SOURCES).meta({
  id: 'SearchSource',
  description:
    'Where documents came from: `upload` (a file), `text` (posted text), `gmail` (a synced email, its ' +
    'attachments read into it), or a group: `email` (synced mail, the same as `gmail`) and `documents` ' +
    '(everything but mail)',
});

export const Filters = z
  .strictObject({
    documentIds: z.array(Uuid).min(1).max(100).optional().meta({ description: 'Only these documents' }),
    tags: z
      .strictObject({
        any: Tags.optional().meta({ description: 'Documents with at least one of these tags' }),
        all: Tags.optional().meta({ description: 'Documents with every one of these tags' }),
      })
      .optional(),
    createdAfter: Timestamp.optional().meta({ description: 'Documents created at or after this instant' }),
    createdBefore: Timestamp.optional().meta({ description: 'Documents created before this instant' }),
    source: SearchSourceName.optional().meta({ description: 'Only documents of this source (see `sources`)' }),
    sources: z
      .array(SearchSourceName)
      .min(1)
      .optional()
      .meta({ description: 'Documents of any of these sources; with `source` too, both must hold' }),
  })
  .meta({ id: 'SearchFilters', description: 'Every filter given must hold; unknown keys are refused' });
export type Filters = z.infer<typeof Filters>;

/** The filters as the search queries take them. */
export function searchFilters(filters: Filters | undefined): SearchFilters {
  if (!filters) return {};
  const { createdAfter, createdBefore, source, sources, ...rest } = filters;
  return {
    ...rest,
    ...(source || sources ? { sources: documentSources(source, sources) } : {}),
    ...(createdAfter ? { createdAfter: new Date(createdAfter) } : {}),
    ...(createdBefore ? { createdBefore: new Date(createdBefore) } : {}),
  };
}

/** The document sources that both `source` and `sources` allow, where given. */
function documentSources(source: SearchSource | undefined, sources: readonly SearchSource[] | undefined) {
  const given = [...(source ? [[source]] : []), ...(sources ? [sources] : [])];
  const allowed = given.map((names) => new Set(names.flatMap(documentSourcesOf)));
  return DOCUMENT_SOURCES.filter((each) => allowed.every((set) => set.has(each)));
}

export const ChunkLocation = ChunkLocationRow.meta({
  id: 'ChunkLocation',
  description: 'Where the chunk sits in its document: page (PDF), nearest heading, character offsets',
});

export const MailSource = MailSourceRow.extend({
  subject: z.string().meta({ description: 'The Subject header (empty when there was none)' }),
  sender: z.string().nullable().meta({ description: 'The From header, as `Name <address>`' }),
  sentAt: Timestamp.nullable().meta({ description: 'The Date header; null when the mail had none' }),
  gmailMessageId: z.string().meta({ description: 'Gmail’s message id' }),
  gmailThreadId: z.string().meta({ description: 'Gmail’s thread id' }),
  address: z.string().nullable().meta({ description: 'The mailbox the mail was synced from' }),
  link: z.url().meta({
    description: 'The message in Gmail’s web client: https://mail.google.com/mail/u/<address>/#all/<gmailMessageId>',
  }),
  attachment: z
    .string()
    .nullable()
    .meta({ description: 'The attachment the chunk was read from; null for the mail’s own text' }),
  label: z.string().meta({
    description: 'How to name the source: `mail "SUBJECT" from SENDER, DATE`, or `attachment NAME of mail "SUBJECT"`',
  }),
}).meta({
  id: 'MailSource',
  description: 'The synced email a chunk comes from (a `gmail` document): the caller’s own mail only',
});

const LegScore = z.object({
  score: z.number(),
  rank: z.number().int().positive().meta({ description: '1-based position in that leg' }),
});

export const SearchResult = z
  .object({
    chunkId: Uuid,
    documentId: Uuid,
    title: z.string(),
    version: z.number().int().meta({ description: 'The document version the chunk belongs to (the active one)' }),
    text: z.string(),
    location: ChunkLocation,
    source: z.enum(DOCUMENT_SOURCES).meta({ description: 'How the document came in: upload, text or gmail' }),
    mail: MailSource.nullable().meta({ description: 'For a chunk of synced mail, the email; null otherwise' }),
    score: z.number().meta({ description: 'What the results are ordered by: the fused score in hybrid mode' }),
    scores: z.object({
      fused: z
        .number()
        .nullable()
        .meta({ description: 'The fused score (hybrid mode): convex combination or RRF, as HYBRID_FUSION says' }),
      dense: LegScore.nullable().meta({ description: 'Cosine similarity, when the dense leg returned the chunk' }),
      lexical: LegScore.nullable().meta({ description: 'BM25, when the lexical leg returned the chunk' }),
    }),
  })
  .meta({ id: 'SearchResult' });
export type SearchResult = z.infer<typeof SearchResult>;

export const SearchResponse = z
  .object({
    mode: z.enum(SEARCH_MODES),
    k: z.number().int(),
    collapse: z.enum(SEARCH_COLLAPSES).nullable(),
    results: z.array(SearchResult),
  })
  .meta({ id: 'SearchResponse' });
export type SearchResponse = z.infer<typeof SearchResponse>;

export const Question = z.string().trim().min(1).max(2000);

export const Search = {
  summary: 'Search the tenant’s documents (and the caller’s private ones and mail)',
  description:
    'Dense (embedding similarity), lexical (PostgreSQL full-text search, web-search syntax) or hybrid, which ' +
    'fuses both (by default a convex combination of each leg’s min-max-normalised scores, equal weights). Only the active version of each document is searched. ' +
    'With `collapse: "document"` the results are k documents, each by its best chunk: each leg ranks documents ' +
    'by their best chunk, and hybrid mode fuses those ranks (a result shows the dense leg’s best chunk of the ' +
    'document when both legs found it, and each leg’s score is that of its own best chunk). ' +
    'The caller’s synced mail is searched with the documents unless a source filter leaves it out; ' +
    '`filters.source: "email"` searches mail (emails and their attachments) alone, `"documents"` everything ' +
    'else. A hit from mail carries `mail`: subject, sender, date, a Gmail link and the attachment it was read from.',
  body: z.strictObject({
    query: Question,
    k: z.number().int().min(1).max(50).default(10),
    mode: z.enum(SEARCH_MODES).default('hybrid'),
    filters: Filters.optional(),
    collapse: z
      .enum(SEARCH_COLLAPSES)
      .optional()
      .meta({ description: 'document: one result per document, its best chunk' }),
  }),
  responses: { 200: { description: 'The best k chunks (or documents), best first', schema: SearchResponse } },
} satisfies Contract;
