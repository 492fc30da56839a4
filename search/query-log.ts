// Counts a search or an ask in the query log, in the given transaction (the one that serves
// the answer), as whoever asked: a signed-in user, or an API key (which has no user).
import type { SearchMode } from '../contract/search.ts';
import { logQuery } from '../db/queries/query-log.ts';
import type { TenantConnection } from '../db/with-tenant.ts';

/** Who searches: the tenant, and the user or the API key acting in it. */
export interface Searcher {
  readonly tenantId: string;
  readonly userId: string | null;
  readonly apiKeyId: string | null;
}

export async function logSearch(
  tx: TenantConnection,
  searcher: Searcher,
  query: { kind: 'search' | 'ask'; mode: SearchMode; resultCount: number; startedAt: number },
): Promise<void> {
  await logQuery(tx, {
    ...searcher,
    kind: query.kind,
    mode: query.mode,
    resultCount: query.resultCount,
    durationMs: performance.now() - query.startedAt,
  });
}
