// Tenants. A tenant row is visible only in its own context (app.tenant_id), so creating one
// means choosing its id first and opening that context; "my tenants" goes through the
// SECURITY DEFINER function auth_my_tenants(), which reads app.user_id.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';
import { TENANT_ROLES } from './memberships.ts';

export const TenantRow = z.object({ id: z.uuid(), name: z.string(), createdAt: z.date() });
export type TenantRow = z.infer<typeof TenantRow>;

export const MyTenantRow = TenantRow.extend({ role: z.enum(TENANT_ROLES) });
export type MyTenantRow = z.infer<typeof MyTenantRow>;

export function insertTenant(
  tx: TenantConnection,
  input: { id: string; name: string; createdBy: string },
): Promise<TenantRow> {
  return tx.one(sql.type(TenantRow)`
    INSERT INTO tenants (id, name, created_by) VALUES (${input.id}, ${input.name}, ${input.createdBy})
    RETURNING id, name, created_at AS "createdAt"
  `);
}

/** The tenants of the user in app.user_id, with their role in each, oldest first. */
export function listMyTenants(tx: TenantConnection): Promise<readonly MyTenantRow[]> {
  return tx.any(sql.type(MyTenantRow)`
    SELECT id, name, role, created_at AS "createdAt" FROM auth_my_tenants()
  `);
}
