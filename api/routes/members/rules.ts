// Who may change whose membership. Owners and admins manage members (requireRole('admin')),
// but only an owner may grant, change or take away the owner role, and a tenant always
// keeps at least one owner.
import { lockOwners, type TenantRole } from '../../../db/queries/memberships.ts';
import type { TenantConnection } from '../../../db/with-tenant.ts';
import { ConflictError, ForbiddenError } from '../../errors.ts';

/** `from` is the member's current role (null when adding), `to` the new one (null when removing). */
export function assertMayChange(actor: TenantRole, from: TenantRole | null, to: TenantRole | null): void {
  if (actor !== 'owner' && (from === 'owner' || to === 'owner')) {
    throw new ForbiddenError('Only an owner may add, change or remove an owner');
  }
}

/** Before an owner is demoted or removed: another owner must remain. Locks the owner rows. */
export async function assertAnotherOwnerRemains(tx: TenantConnection, tenantId: string, userId: string): Promise<void> {
  const owners = await lockOwners(tx, tenantId);
  if (owners.length <= 1 && owners.includes(userId)) {
    throw new ConflictError('last_owner', 'A tenant must keep at least one owner');
  }
}
