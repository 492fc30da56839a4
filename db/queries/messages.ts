// The messages of a conversation. A question and its answer are appended together as one
// turn: the user's message (child of the conversation's last message), the assistant's reply
// (child of the question) with the chunks it was given and the ones it cites, its model and
// token usage, and the conversation's running totals, all in the caller's transaction.
import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import type { ConversationOwner } from './conversations.ts';
import { ChunkLocation, MailSource } from './search/hits.ts';

/** A chunk given to the answerer as context, numbered as the answer cites it: `[n]`. */
export const ContextRef = z.object({
  n: z.number().int().positive(),
  documentId: z.uuid(),
  chunkId: z.uuid(),
  version: z.number().int(),
  title: z.string(),
  location: ChunkLocation,
  /** The email a chunk of synced mail came from (null otherwise; absent in turns kept before mail). */
  mail: MailSource.nullable().default(null),
});
export type ContextRef = z.infer<typeof ContextRef>;

/** A citation `[n]` of an answer, resolved to the chunk it points at. */
export const Citation = ContextRef.omit({ version: true });
export type Citation = z.infer<typeof Citation>;

export const MESSAGE_ROLES = ['user', 'assistant'] as const;

export const MessageRow = z.object({
  id: z.uuid(),
  seq: z.number().int(),
  parentId: z.uuid().nullable(),
  role: z.enum(MESSAGE_ROLES),
  content: z.string(),
  context: z.array(ContextRef),
  citations: z.array(Citation),
  model: z.string().nullable(),
  extractive: z.boolean().nullable(),
  promptTokens: z.number().int().nullable(),
  completionTokens: z.number().int().nullable(),
  createdAt: z.date(),
});
export type MessageRow = z.infer<typeof MessageRow>;

const columns = sql.fragment`
  id, seq, parent_id AS "parentId", role, content, context, citations, model, extractive,
  prompt_tokens AS "promptTokens", completion_tokens AS "completionTokens", created_at AS "createdAt"
`;

/** The conversation's messages, oldest first. */
export function listMessages(tx: TenantConnection, conversationId: string): Promise<readonly MessageRow[]> {
  return tx.any(sql.type(MessageRow)`
    SELECT ${columns} FROM messages WHERE conversation_id = ${conversationId} ORDER BY seq
  `);
}

export interface AnswerTurn {
  readonly question: string;
  readonly answer: string;
  readonly context: readonly ContextRef[];
  readonly citations: readonly Citation[];
  readonly model: string;
  readonly extractive: boolean;
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number };
}

/**
 * Appends a question and its answer. The caller holds the conversation's row lock
 * (findConversation with `lock`), so `after` (the last message, or null) is still the last.
 */
export async function appendTurn(
  tx: TenantConnection,
  owner: ConversationOwner,
  conversation: { id: string; after: { id: string; seq: number } | null },
  turn: AnswerTurn,
): Promise<{ question: MessageRow; answer: MessageRow }> {
  const scope = sql.fragment`${conversation.id}, ${owner.tenantId}, ${owner.userId}`;
  const seq = conversation.after?.seq ?? 0;
  const question = await tx.one(sql.type(MessageRow)`
    INSERT INTO messages (id, conversation_id, tenant_id, user_id, seq, parent_id, role, content)
    VALUES (${randomUUID()}, ${scope}, ${seq + 1}, ${conversation.after?.id ?? null}, 'user', ${turn.question})
    RETURNING ${columns}
  `);
  const answer = await tx.one(sql.type(MessageRow)`
    INSERT INTO messages (id, conversation_id, tenant_id, user_id, seq, parent_id, role, content, context, citations,
                          model, extractive, prompt_tokens, completion_tokens)
    VALUES (${randomUUID()}, ${scope}, ${seq + 2}, ${question.id}, 'assistant', ${turn.answer},
            ${sql.jsonb(turn.context)}, ${sql.jsonb(turn.citations)}, ${turn.model}, ${turn.extractive},
            ${turn.usage.promptTokens}, ${turn.usage.completionTokens})
    RETURNING ${columns}
  `);
  await tx.query(sql.unsafe`
    UPDATE conversations
    SET message_count = message_count + 2, prompt_tokens = prompt_tokens + ${turn.usage.promptTokens},
        completion_tokens = completion_tokens + ${turn.usage.completionTokens}, last_model = ${turn.model},
        updated_at = now()
    WHERE id = ${conversation.id}
  `);
  return { question, answer };
}
