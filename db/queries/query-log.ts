// The query log: one row per search or ask, written in the request's own transaction, so a
// query counts exactly when its answer is served. It records who asked and how it went, not
// what was asked.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import type { SearchMode } from '../../contract/search.ts';

export interface LoggedQuery {
  readonly tenantId: string;
  /** The asking user, or null for an API key (the policy checks it against the context). */
  readonly userId: string | null;
  readonly apiKeyId: string | null;
  readonly kind: 'search' | 'ask';
  readonly mode: SearchMode;
  readonly resultCount: number;
  readonly durationMs: number;
}

/** Logs the query; returns the row's id. */
export function logQuery(tx: TenantConnection, query: LoggedQuery): Promise<number> {
  return tx.oneFirst(sql.type(z.object({ id: z.number().int() }))`
    INSERT INTO query_log (tenant_id, user_id, api_key_id, kind, mode, result_count, duration_ms)
    VALUES (${query.tenantId}, ${query.userId}, ${query.apiKeyId}, ${query.kind}, ${query.mode},
            ${query.resultCount}, ${Math.max(0, Math.round(query.durationMs))})
    RETURNING id
  `);
}
