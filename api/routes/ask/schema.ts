// Contract of POST /v1/ask: a question answered from the tenant's documents, with [n]
// citations resolved to the chunks they point at; within a conversation, the turn is kept.
import { z } from 'zod';
import { Citation as CitationRow, ContextRef as ContextRefRow } from '../../../db/queries/messages.ts';
import type { Contract } from '../../openapi/contract.ts';
import { Uuid } from '../../schemas.ts';
import { ChunkLocation, Filters, MailSource, Question } from '../search/schema.ts';

const mail = MailSource.nullable().meta({
  description:
    'For a chunk of synced mail, the email it names (`label`); null otherwise, and in turns kept before mail',
});

export const Citation = CitationRow.extend({ location: ChunkLocation, mail }).meta({
  id: 'Citation',
  description: 'A chunk the answer cites as [n]',
});

export const ContextRef = ContextRefRow.extend({ location: ChunkLocation, mail }).meta({
  id: 'ContextChunk',
  description: 'A chunk the answer was written from, numbered [n] as the answer would cite it',
});

export const Usage = z
  .object({ promptTokens: z.number().int(), completionTokens: z.number().int() })
  .meta({ id: 'TokenUsage', description: 'Zero for extractive answers' });

export const AskResponse = z
  .object({
    answer: z.string(),
    extractive: z.boolean().meta({
      description: 'True when the answer quotes the chunks (no language model configured), false when a model wrote it',
    }),
    model: z.string(),
    usage: Usage,
    citations: z.array(Citation),
    context: z.array(ContextRef),
    conversationId: Uuid.nullable(),
    messageId: Uuid.nullable().meta({ description: 'The assistant message recorded in the conversation' }),
  })
  .meta({ id: 'AskResponse' });
export type AskResponse = z.infer<typeof AskResponse>;

export const Ask = {
  summary: 'Answer a question from the tenant’s documents (and the caller’s mail), with citations',
  description:
    'Hybrid search finds the k best chunks, which are the only context of the answer. With an OpenAI-compatible ' +
    'endpoint configured a language model writes the answer; otherwise it is extractive (quoted sentences). ' +
    'Given a conversationId (of the caller’s own conversation), the question and the answer are appended to it, ' +
    'and its earlier turns are the model’s history. The filters are those of /v1/search (`source: "email"` for ' +
    'mail alone); a citation of mail names it in `mail.label`, as `mail "SUBJECT" from SENDER, DATE` or ' +
    '`attachment NAME of mail "SUBJECT"`.',
  body: z.strictObject({
    question: Question,
    k: z.number().int().min(1).max(20).default(5),
    conversationId: Uuid.optional(),
    filters: Filters.optional(),
  }),
  responses: { 200: { description: 'The answer', schema: AskResponse } },
  errors: [404],
} satisfies Contract;
