// /v1/conversations: a signed-in user's own conversations (API keys have no user to own one).
// The API writes them directly; row-level security shows each user only their own.
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import {
  deleteConversation,
  findConversation,
  insertConversation,
  listConversations,
} from '../../../db/queries/conversations.ts';
import { listMessages } from '../../../db/queries/messages.ts';
import {
  tenantOf,
  userOf,
  type ApiContext,
  type ApiContextExtension,
  type ApiState,
  type RouteContext,
} from '../../context.ts';
import { NotFoundError } from '../../errors.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { requireTenant } from '../../middleware/require-tenant.ts';
import { validate } from '../../middleware/validate.ts';
import { pageBody } from '../../paging.ts';
import { serialized } from '../../schemas.ts';
import {
  CreateConversation,
  DeleteConversation,
  GetConversation,
  ListConversations,
  type Conversation,
  type ConversationDetail,
  type ConversationPage,
} from './schema.ts';

export function createConversationsRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/conversations' });
  router.post('/', authenticate(), requireTenant(), validate(CreateConversation), create);
  router.get('/', authenticate(), requireTenant(), validate(ListConversations), list);
  router.get('/:conversationId', authenticate(), requireTenant(), validate(GetConversation), get);
  router.delete('/:conversationId', authenticate(), requireTenant(), validate(DeleteConversation), remove);
  return router;
}

function ownerOf(ctx: ApiContext) {
  return { tenantId: tenantOf(ctx).tenantId, userId: userOf(ctx).userId };
}

const notFound = () => new NotFoundError('Conversation not found');

async function create(ctx: RouteContext<typeof CreateConversation>) {
  const { tx } = tenantOf(ctx);
  const row = await insertConversation(tx, ownerOf(ctx), { id: randomUUID(), title: ctx.state.input.body.title });
  ctx.status = 201;
  ctx.body = serialized(row) satisfies Conversation;
}

async function list(ctx: RouteContext<typeof ListConversations>) {
  const { tx } = tenantOf(ctx);
  const { cursor, limit } = ctx.state.input.query;
  const page = await listConversations(tx, ownerOf(ctx), { after: cursor, limit });
  ctx.body = pageBody('conversations', page, serialized) satisfies ConversationPage;
}

async function get(ctx: RouteContext<typeof GetConversation>) {
  const { tx } = tenantOf(ctx);
  const conversation = await findConversation(tx, ctx.state.input.params.conversationId);
  if (!conversation) throw notFound();
  const messages = await listMessages(tx, conversation.id);
  ctx.body = { ...serialized(conversation), messages: messages.map(serialized) } satisfies ConversationDetail;
}

async function remove(ctx: RouteContext<typeof DeleteConversation>) {
  const { tx } = tenantOf(ctx);
  if (!(await deleteConversation(tx, ctx.state.input.params.conversationId))) throw notFound();
  ctx.status = 204;
}
