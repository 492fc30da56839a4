// POST /v1/ask: a grounded answer, in steps so that no pooled connection waits on a model:
// (0) the question embedded, with no connection held; (1) in one transaction, the caller's
// conversation and its messages, and the chunks retrieved for the question; (2) the answer,
// with no transaction open; (3) in one
// transaction, under a lock on the conversation, the turn appended (question and answer) and
// the query counted. A failed answer records nothing. If another turn was appended to the
// conversation meanwhile, the answer (written without it) is refused with a 409.
import Router from '@koa/router';
import { findConversation } from '../../../db/queries/conversations.ts';
import { appendTurn, listMessages, type MessageRow } from '../../../db/queries/messages.ts';
import { withTenant, type TenantConnection, type TenantContext } from '../../../db/with-tenant.ts';
import { prepareSearch } from '../../../search/service.ts';
import { logSearch } from '../../../search/query-log.ts';
import { searcherOf, type ApiContextExtension, type ApiState, type RouteContext } from '../../context.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { providerErrors } from '../../middleware/provider-errors.ts';
import { requireTenant } from '../../middleware/require-tenant.ts';
import { validate } from '../../middleware/validate.ts';
import { searchFilters } from '../search/schema.ts';
import { answerFrom, retrieve } from './grounded-answer.ts';
import { Ask, type AskResponse } from './schema.ts';

export function createAskRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/ask' });
  router.post(
    '/',
    authenticate({ apiKeys: true }),
    requireTenant({ transaction: 'statement' }),
    providerErrors(),
    validate(Ask),
    ask,
  );
  return router;
}

const notFound = () => new NotFoundError('Conversation not found');

/** The conversation's messages, if the context's user owns it (API keys own none); else 404. */
async function conversationMessages(
  tx: TenantConnection,
  userId: string | null,
  conversationId: string,
  options: { lock?: boolean } = {},
): Promise<readonly MessageRow[]> {
  const conversation = userId ? await findConversation(tx, conversationId, options) : null;
  if (!conversation) throw notFound();
  return listMessages(tx, conversation.id);
}

async function ask(ctx: RouteContext<typeof Ask>) {
  const startedAt = performance.now();
  const { pool, embedder, answerer, bm25, fusion } = ctx.services;
  const searcher = searcherOf(ctx);
  const { tenantId, userId } = searcher;
  const context: TenantContext = { tenantId, userId };
  const { question, k, conversationId, filters } = ctx.state.input.body;

  const prepared = await prepareSearch(embedder, {
    tenantId,
    query: question,
    k,
    mode: 'hybrid',
    filters: searchFilters(filters),
    bm25,
    fusion,
  });
  const { messages, hits } = await withTenant(pool, context, async (tx) => ({
    messages: conversationId ? await conversationMessages(tx, userId, conversationId) : [],
    hits: await retrieve(tx, prepared),
  }));
  const history = messages.map(({ role, content }) => ({ role, content }));
  const { answer, context: sources, citations } = await answerFrom(answerer, { question, hits, history });

  const turn = await withTenant(pool, context, async (tx) => {
    await logSearch(tx, searcher, { kind: 'ask', mode: 'hybrid', resultCount: hits.length, startedAt });
    if (!conversationId || !userId) return null;
    const current = await conversationMessages(tx, userId, conversationId, { lock: true });
    const last = current.at(-1) ?? null;
    if (last?.id !== messages.at(-1)?.id) {
      throw new ConflictError('conversation_changed', 'The conversation moved on while this was answered; ask again');
    }
    return appendTurn(
      tx,
      { tenantId, userId },
      { id: conversationId, after: last },
      {
        question,
        answer: answer.text,
        context: sources,
        citations,
        model: answer.model,
        extractive: answer.extractive,
        usage: answer.usage,
      },
    );
  });

  ctx.body = {
    answer: answer.text,
    extractive: answer.extractive,
    model: answer.model,
    usage: answer.usage,
    citations,
    context: sources,
    conversationId: conversationId ?? null,
    messageId: turn?.answer.id ?? null,
  } satisfies AskResponse;
}
