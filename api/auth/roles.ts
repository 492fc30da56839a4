// Role ranks. Members hold a TenantRole; API keys an ApiKeyRole, which is never owner.
import type { TenantRole } from '../../db/queries/memberships.ts';

const RANK: Record<TenantRole, number> = { owner: 3, admin: 2, member: 1, viewer: 0 };

/** Whether `role` grants at least what `minimum` grants. */
export function roleAtLeast(role: TenantRole, minimum: TenantRole): boolean {
  return RANK[role] >= RANK[minimum];
}
