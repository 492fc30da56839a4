// Conversations: the API writes them directly (conversation turns are not job data). The
// policy shows a user only their own conversations in the current tenant, so every query
// here runs in a context that names both.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import { selectPage, type Page, type PageCursor } from './pagination.ts';

export const ConversationRow = z.object({
  id: z.uuid(),
  title: z.string(),
  messageCount: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  lastModel: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type ConversationRow = z.infer<typeof ConversationRow>;

const columns = sql.fragment`
  id, title, message_count AS "messageCount", prompt_tokens AS "promptTokens",
  completion_tokens AS "completionTokens", last_model AS "lastModel", created_at AS "createdAt",
  updated_at AS "updatedAt"
`;

export interface ConversationOwner {
  readonly tenantId: string;
  readonly userId: string;
}

export function insertConversation(
  tx: TenantConnection,
  owner: ConversationOwner,
  input: { id: string; title: string },
): Promise<ConversationRow> {
  return tx.one(sql.type(ConversationRow)`
    INSERT INTO conversations (id, tenant_id, user_id, title)
    VALUES (${input.id}, ${owner.tenantId}, ${owner.userId}, ${input.title})
    RETURNING ${columns}
  `);
}

/** A page of the user's conversations in the tenant, newest first. */
export function listConversations(
  tx: TenantConnection,
  owner: ConversationOwner,
  query: { after?: PageCursor; limit: number },
): Promise<Page<ConversationRow>> {
  return selectPage(tx, {
    table: 'conversations',
    row: ConversationRow,
    columns,
    conditions: [sql.fragment`tenant_id = ${owner.tenantId}`, sql.fragment`user_id = ${owner.userId}`],
    after: query.after,
    limit: query.limit,
  });
}

/**
 * The conversation, if the context may see it. With `lock`, its row stays locked until the
 * transaction ends, so that turns asked at the same time are appended one after the other.
 */
export function findConversation(
  tx: TenantConnection,
  id: string,
  options: { lock?: boolean } = {},
): Promise<ConversationRow | null> {
  return tx.maybeOne(sql.type(ConversationRow)`
    SELECT ${columns} FROM conversations WHERE id = ${id} ${options.lock ? sql.fragment`FOR UPDATE` : sql.fragment``}
  `);
}

/** Removes the conversation with its messages; false when the context sees no such conversation. */
export async function deleteConversation(tx: TenantConnection, id: string): Promise<boolean> {
  const result = await tx.query(sql.unsafe`DELETE FROM conversations WHERE id = ${id}`);
  return result.rowCount > 0;
}
