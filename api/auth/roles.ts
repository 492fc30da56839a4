// Role ranks. Members hold a TenantRole; API keys an ApiKeyRole, which is never owner.
import type { ApiKeyRole } from '../../db/queries/api-keys.ts';
import type { TenantRole } from '../../db/queries/memberships.ts';

const RANK: Record<TenantRole, number> = { owner: 3, admin: 2, member: 1, viewer: 0 };

/** Whether `role` grants at least what `minimum` grants. */
export function roleAtLeast(role: TenantRole, minimum: TenantRole): boolean {
  return RANK[role] >= RANK[minimum];
}

/**
 * The role an API key acts with: its own, capped by the role its creator holds now. A key can
 * never do more than the person who made it may do today.
 */
export function cappedKeyRole(own: ApiKeyRole, creator: TenantRole): ApiKeyRole {
  if (roleAtLeast(creator, own)) return own;
  // Below the key's own role, so never owner; the check only tells the compiler so.
  return creator === 'owner' ? own : creator;
}
