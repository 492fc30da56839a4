// Counts a search or an ask in the query log, in the given transaction (the one that serves
// the answer), as whoever asked: the signed-in user, or the API key (which has no user).
import { logQuery, type LoggedQuery } from '../../../db/queries/query-log.ts';
import type { TenantConnection } from '../../../db/with-tenant.ts';
import { principalOf, tenantOf, type ApiContext } from '../../context.ts';

export async function recordQuery(
  ctx: ApiContext,
  tx: TenantConnection,
  query: Pick<LoggedQuery, 'kind' | 'mode' | 'resultCount'> & { startedAt: number },
): Promise<void> {
  const principal = principalOf(ctx);
  await logQuery(tx, {
    tenantId: tenantOf(ctx).tenantId,
    userId: principal.kind === 'user' ? principal.userId : null,
    apiKeyId: principal.kind === 'apiKey' ? principal.apiKeyId : null,
    kind: query.kind,
    mode: query.mode,
    resultCount: query.resultCount,
    durationMs: performance.now() - query.startedAt,
  });
}
