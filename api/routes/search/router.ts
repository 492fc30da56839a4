// POST /v1/search: dense, lexical or hybrid search over the caller's tenant. Users and API
// keys of every role may search; row-level security keeps other tenants' chunks and other
// users' private documents out of every leg. The query is embedded before any transaction
// opens (requireTenant's per-statement mode), so a slow embedder holds no pooled connection.
import Router from '@koa/router';
import { locationOf } from '../../../db/queries/search/hits.ts';
import { mailSourceOf } from '../../../search/mail-source.ts';
import { search, type SearchResult as FoundChunk } from '../../../search/service.ts';
import { searcherOf, type ApiContextExtension, type ApiState, type RouteContext } from '../../context.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { providerErrors } from '../../middleware/provider-errors.ts';
import { requireTenant } from '../../middleware/require-tenant.ts';
import { validate } from '../../middleware/validate.ts';
import { Search, searchFilters, type SearchResponse, type SearchResult } from './schema.ts';

export function createSearchRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/search' });
  router.post(
    '/',
    authenticate({ apiKeys: true }),
    requireTenant({ transaction: 'statement' }),
    providerErrors(),
    validate(Search),
    searchChunks,
  );
  return router;
}

function present({ hit, score, legs }: FoundChunk, fused: boolean): SearchResult {
  return {
    chunkId: hit.chunkId,
    documentId: hit.documentId,
    title: hit.title,
    version: hit.version,
    text: hit.text,
    location: locationOf(hit),
    source: hit.source,
    mail: mailSourceOf(hit),
    score,
    scores: { fused: fused ? score : null, dense: legs.dense ?? null, lexical: legs.lexical ?? null },
  };
}

async function searchChunks(ctx: RouteContext<typeof Search>) {
  const searcher = searcherOf(ctx);
  const { query, k, mode, filters, collapse } = ctx.state.input.body;
  const { results } = await search(ctx.services, searcher, {
    tenantId: searcher.tenantId,
    query,
    k,
    mode,
    filters: searchFilters(filters),
    bm25: ctx.services.bm25,
    fusion: ctx.services.fusion,
    collapse,
  });
  ctx.body = {
    mode,
    k,
    collapse: collapse ?? null,
    results: results.map((result) => present(result, mode === 'hybrid')),
  } satisfies SearchResponse;
}
