// The audit trail of security-relevant actions. Entries are written inside the same
// withTenant transaction as the change they describe, so one never exists without the other.
import { sql } from 'slonik';
import type { TenantConnection } from '../with-tenant.ts';

export interface AuditEntry {
  /** null for events of a user alone (register, login); the policy then requires actorUserId. */
  readonly tenantId: string | null;
  readonly actorUserId: string | null;
  readonly actorApiKey: string | null;
  readonly action: string;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
}

export async function insertAuditEntry(tx: TenantConnection, entry: AuditEntry): Promise<void> {
  await tx.query(sql.unsafe`
    INSERT INTO audit_log (tenant_id, actor_user_id, actor_api_key, action, target_type, target_id, request_id, details)
    VALUES (${entry.tenantId}, ${entry.actorUserId}, ${entry.actorApiKey}, ${entry.action}, ${entry.targetType},
            ${entry.targetId}, ${entry.requestId}, ${sql.jsonb(entry.details as never)})
  `);
}
