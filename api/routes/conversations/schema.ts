// Contracts of /v1/conversations: a signed-in user's own conversations in the selected tenant,
// with their messages. Questions are asked in a conversation through POST /v1/ask.
import { z } from 'zod';
import { ConversationRow } from '../../../db/queries/conversations.ts';
import { MESSAGE_ROLES, MessageRow } from '../../../db/queries/messages.ts';
import type { Contract } from '../../openapi/contract.ts';
import { pageQuery, pageSchema } from '../../paging.ts';
import { Timestamp, Uuid } from '../../schemas.ts';
import { Citation, ContextRef } from '../ask/schema.ts';

export const Conversation = ConversationRow.extend({
  promptTokens: z.number().int().meta({ description: 'Prompt tokens of all its answers' }),
  completionTokens: z.number().int().meta({ description: 'Completion tokens of all its answers' }),
  lastModel: z.string().nullable().meta({ description: 'The model of the latest answer' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).meta({ id: 'Conversation' });
export type Conversation = z.infer<typeof Conversation>;

export const Message = MessageRow.extend({
  role: z.enum(MESSAGE_ROLES),
  parentId: Uuid.nullable().meta({ description: 'The message this one follows' }),
  context: z.array(ContextRef).meta({ description: 'Assistant messages: the chunks the answer was written from' }),
  citations: z.array(Citation).meta({ description: 'Assistant messages: the chunks the answer cites' }),
  createdAt: Timestamp,
}).meta({ id: 'Message' });
export type Message = z.infer<typeof Message>;

export const ConversationDetail = Conversation.extend({ messages: z.array(Message) }).meta({
  id: 'ConversationDetail',
});
export type ConversationDetail = z.infer<typeof ConversationDetail>;

export const ConversationPage = pageSchema('ConversationPage', 'conversations', Conversation);
export type ConversationPage = z.infer<typeof ConversationPage>;

const ConversationParams = z.object({ conversationId: Uuid });

export const CreateConversation = {
  summary: 'Start a conversation',
  body: z.strictObject({ title: z.string().trim().min(1).max(200).default('New conversation') }),
  responses: { 201: { description: 'The new, empty conversation', schema: Conversation } },
} satisfies Contract;

export const ListConversations = {
  summary: 'The caller’s conversations in the tenant, newest first',
  query: z.object(pageQuery),
  responses: { 200: { description: 'One page of conversations', schema: ConversationPage } },
} satisfies Contract;

export const GetConversation = {
  summary: 'A conversation with its messages, oldest first',
  description: 'Another user’s or another tenant’s conversation is answered 404, like one that does not exist.',
  params: ConversationParams,
  responses: { 200: { description: 'The conversation', schema: ConversationDetail } },
} satisfies Contract;

export const DeleteConversation = {
  summary: 'Delete a conversation and its messages',
  params: ConversationParams,
  responses: { 204: { description: 'The conversation is gone' } },
  errors: [404],
} satisfies Contract;
