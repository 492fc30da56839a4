// POST /v1/search: dense, lexical or hybrid search over the caller's tenant. Users and API
// keys of every role may search; row-level security keeps other tenants' chunks and other
// users' private documents out of every leg.
import Router from '@koa/router';
import { search, type SearchResult as FoundChunk } from '../../../db/queries/search/retrieve.ts';
import { locationOf } from '../../../db/queries/search/hits.ts';
import { tenantOf, type ApiContextExtension, type ApiState, type RouteContext } from '../../context.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { providerErrors } from '../../middleware/provider-errors.ts';
import { requireTenant } from '../../middleware/require-tenant.ts';
import { validate } from '../../middleware/validate.ts';
import { recordQuery } from './record-query.ts';
import { Search, searchFilters, type SearchResponse, type SearchResult } from './schema.ts';

export function createSearchRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/search' });
  router.post('/', authenticate({ apiKeys: true }), requireTenant(), providerErrors(), validate(Search), searchChunks);
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
    score,
    scores: { fused: fused ? score : null, dense: legs.dense ?? null, lexical: legs.lexical ?? null },
  };
}

async function searchChunks(ctx: RouteContext<typeof Search>) {
  const startedAt = performance.now();
  const { tenantId, tx } = tenantOf(ctx);
  const { query, k, mode, filters } = ctx.state.input.body;
  const { results } = await search(tx, ctx.services.embedder, {
    tenantId,
    query,
    k,
    mode,
    filters: searchFilters(filters),
  });
  await recordQuery(ctx, tx, { kind: 'search', mode, resultCount: results.length, startedAt });
  ctx.body = { mode, k, results: results.map((result) => present(result, mode === 'hybrid')) } satisfies SearchResponse;
}
