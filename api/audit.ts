// Records a security-relevant action in audit_log, inside the caller's withTenant
// transaction. The actor (user or API key) and the request id come from the request.
import { insertAuditEntry } from '../db/queries/audit-log.ts';
import type { TenantConnection } from '../db/with-tenant.ts';
import { apiKeyIdOf, userIdOf, type ApiState } from './context.ts';

export interface AuditAction {
  readonly action: string;
  /** null for events of a user alone; the policy then needs the acting user. */
  readonly tenantId: string | null;
  readonly target?: { readonly type: string; readonly id: string };
  readonly details?: Record<string, unknown>;
  /** The acting user when the request is not signed in yet (register, login). */
  readonly actorUserId?: string;
}

export function audit(ctx: { state: ApiState }, tx: TenantConnection, entry: AuditAction): Promise<void> {
  const principal = ctx.state.auth;
  return insertAuditEntry(tx, {
    tenantId: entry.tenantId,
    actorUserId: entry.actorUserId ?? userIdOf(principal),
    actorApiKey: apiKeyIdOf(principal),
    action: entry.action,
    targetType: entry.target?.type ?? null,
    targetId: entry.target?.id ?? null,
    requestId: ctx.state.requestId,
    details: entry.details ?? {},
  });
}
