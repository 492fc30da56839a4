// Role checks, after authenticate() and requireTenant(): requireRole('admin') admits admins
// and owners of the current tenant (or API keys with the admin role); requirePlatformAdmin()
// admits users whose account has users.is_admin.
import type { TenantRole } from '../../db/queries/memberships.ts';
import { roleAtLeast } from '../auth/roles.ts';
import { principalOf, scopeOf, type ApiMiddleware } from '../context.ts';
import { ForbiddenError } from '../errors.ts';
import { withMeta } from '../openapi/meta.ts';

export function requireRole(minimum: TenantRole): ApiMiddleware {
  return withMeta(
    async function requireRole(ctx, next) {
      const { role } = scopeOf(ctx);
      if (role === null || !roleAtLeast(role, minimum)) {
        throw new ForbiddenError(`This needs the ${minimum} role or higher in this tenant`);
      }
      await next();
    },
    { errors: [403] },
  );
}

export function requirePlatformAdmin(): ApiMiddleware {
  return withMeta(
    async function requirePlatformAdmin(ctx, next) {
      const principal = principalOf(ctx);
      if (principal.kind !== 'user' || !principal.isAdmin) throw new ForbiddenError('This needs a platform admin');
      await next();
    },
    { errors: [403] },
  );
}
