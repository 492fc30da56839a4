// A chunk as a search leg returns it: where it comes from, its text and location, and the
// leg's own score. Both legs select the same columns, so their lists fuse item for item.
// A chunk of a synced mail (a private `gmail` document) also carries its email's subject,
// sender, date, Gmail ids and mailbox address, read by a join in the leg's own query
// (`withMail`): the emails and mail_accounts policies show them to their user alone, who is
// also the only one who can see the document.
import { sql, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { DOCUMENT_SOURCES } from '../../../contract/documents.ts';

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
  source: z.enum(DOCUMENT_SOURCES),
  /** The email a `gmail` document was made from; null for every other document. */
  mail: z
    .object({
      subject: z.string(),
      sender: z.string().nullable(),
      sentAt: z.string().nullable(),
      gmailMessageId: z.string(),
      gmailThreadId: z.string(),
      address: z.string().nullable(),
    })
    .nullable(),
  /** The leg's score: cosine similarity (dense) or BM25 (lexical); higher is better. */
  score: z.number(),
});
export type ChunkHit = z.infer<typeof ChunkHit>;

export const hitColumns = sql.fragment`
  c.id AS "chunkId", c.document_id AS "documentId", c.version, d.title, c.content AS text, c.page, c.heading,
  c.start_offset AS "startOffset", c.end_offset AS "endOffset", d.source
`;

/**
 * `hits` (a leg's rows, with hitColumns and its score) with their mail, in the leg's order by
 * `orderBy` (`h.` columns): one LEFT JOIN per table, never a query per hit.
 */
export function withMail(hits: FragmentSqlToken, orderBy: FragmentSqlToken): FragmentSqlToken {
  return sql.fragment`
    SELECT h.*,
           CASE WHEN e.id IS NULL THEN NULL ELSE jsonb_build_object(
             'subject', e.subject, 'sender', e.sender,
             'sentAt', to_char(e.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'gmailMessageId', e.gmail_message_id, 'gmailThreadId', e.gmail_thread_id, 'address', a.address
           ) END AS mail
    FROM (${hits}) AS h
    LEFT JOIN emails e ON h.source = 'gmail' AND e.document_id = h."documentId"
    LEFT JOIN mail_accounts a ON a.id = e.account_id
    ORDER BY ${orderBy}
  `;
}

/**
 * Where a hit from synced mail came from, as search results and an answer's context and
 * citations (stored with the conversation) carry it: search/mail-source.ts makes it.
 */
export const MailSource = z.object({
  subject: z.string(),
  sender: z.string().nullable(),
  sentAt: z.string().nullable(),
  gmailMessageId: z.string(),
  gmailThreadId: z.string(),
  address: z.string().nullable(),
  link: z.string(),
  attachment: z.string().nullable(),
  label: z.string(),
});
export type MailSource = z.infer<typeof MailSource>;

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
