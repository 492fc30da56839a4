// Who belongs to which tenant, and with which role. Every query runs in the tenant's own
// context; the users join shows fellow members, which the users policy allows.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';

/** Tenant roles, from most to least powerful (the CHECK constraint of memberships.role). */
export const TENANT_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export const MemberRow = z.object({
  userId: z.uuid(),
  email: z.string(),
  displayName: z.string(),
  role: z.enum(TENANT_ROLES),
  createdAt: z.date(),
});
export type MemberRow = z.infer<typeof MemberRow>;

const memberSelect = sql.fragment`
  SELECT m.user_id AS "userId", u.email, u.display_name AS "displayName", m.role, m.created_at AS "createdAt"
  FROM memberships m JOIN users u ON u.id = m.user_id
`;

/** The user's role in the tenant, or null when they are not a member. */
export function findMembershipRole(
  tx: TenantConnection,
  input: { tenantId: string; userId: string },
): Promise<TenantRole | null> {
  return tx.maybeOneFirst(sql.type(z.object({ role: z.enum(TENANT_ROLES) }))`
    SELECT role FROM memberships WHERE tenant_id = ${input.tenantId} AND user_id = ${input.userId}
  `);
}

export function listMembers(tx: TenantConnection, tenantId: string): Promise<readonly MemberRow[]> {
  return tx.any(sql.type(MemberRow)`${memberSelect} WHERE m.tenant_id = ${tenantId} ORDER BY m.created_at, m.user_id`);
}

export function findMember(
  tx: TenantConnection,
  input: { tenantId: string; userId: string },
): Promise<MemberRow | null> {
  return tx.maybeOne(sql.type(MemberRow)`
    ${memberSelect} WHERE m.tenant_id = ${input.tenantId} AND m.user_id = ${input.userId}
  `);
}

/** Adds a member; false when they already are one (their role is then left as it is). */
export async function insertMembership(
  tx: TenantConnection,
  input: { tenantId: string; userId: string; role: TenantRole },
): Promise<boolean> {
  const result = await tx.query(sql.unsafe`
    INSERT INTO memberships (tenant_id, user_id, role) VALUES (${input.tenantId}, ${input.userId}, ${input.role})
    ON CONFLICT (tenant_id, user_id) DO NOTHING
  `);
  return result.rowCount > 0;
}

export async function updateMembershipRole(
  tx: TenantConnection,
  input: { tenantId: string; userId: string; role: TenantRole },
): Promise<void> {
  await tx.query(sql.unsafe`
    UPDATE memberships SET role = ${input.role} WHERE tenant_id = ${input.tenantId} AND user_id = ${input.userId}
  `);
}

export async function deleteMembership(
  tx: TenantConnection,
  input: { tenantId: string; userId: string },
): Promise<void> {
  await tx.query(sql.unsafe`
    DELETE FROM memberships WHERE tenant_id = ${input.tenantId} AND user_id = ${input.userId}
  `);
}

/**
 * Locks the tenant's owner rows until the transaction ends and returns their user ids, so
 * that two concurrent demotions cannot both see "another owner is left".
 */
export function lockOwners(tx: TenantConnection, tenantId: string): Promise<readonly string[]> {
  return tx.anyFirst(sql.type(z.object({ userId: z.uuid() }))`
    SELECT user_id AS "userId" FROM memberships
    WHERE tenant_id = ${tenantId} AND role = 'owner'
    ORDER BY user_id
    FOR UPDATE
  `);
}
