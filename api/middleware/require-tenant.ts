// requireTenant(): the tenant this request acts in, checked on every request. A user names
// it with the x-tenant-id header (or a path parameter, on /v1/tenants/:tenantId/...); an API
// key is bound to its own tenant. The rest of the request runs inside one withTenant
// transaction whose first query checks the membership, and which the handler uses as
// ctx.state.scope.tx. A tenant the caller does not belong to is a 404, exactly like one
// that does not exist.
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { touchApiKey } from '../../db/queries/api-keys.ts';
import { findMembershipRole } from '../../db/queries/memberships.ts';
import { withTenant, type TenantConnection, type TenantContext } from '../../db/with-tenant.ts';
import { principalOf, type ApiContext, type ApiMiddleware, type TenantScope } from '../context.ts';
import { BadRequestError, NotFoundError, ServiceUnavailableError } from '../errors.ts';
import { withMeta } from '../openapi/meta.ts';

export interface RequireTenantOptions {
  /** Read the tenant id from this path parameter instead of the x-tenant-id header. */
  readonly param?: string;
  /** Platform admins may omit the tenant and then see platform-wide rows (platform jobs). */
  readonly platform?: boolean;
  /**
   * 'request' (the default) runs the whole request in one transaction. 'statement' checks the
   * membership in a short transaction and then runs each query of the handler in a
   * transaction of its own: for routes that stream a body or wait on a workflow, which must
   * not hold a pooled connection (and an open transaction) for that long.
   */
  readonly transaction?: 'request' | 'statement';
}

/**
 * A connection whose every query runs in its own withTenant transaction, so that nothing
 * stays open between two queries of a handler. Nested transactions are not offered.
 */
function perStatementConnection(pool: DatabasePool, context: TenantContext): TenantConnection {
  return new Proxy({} as TenantConnection, {
    get(_target, method: keyof TenantConnection) {
      if (method === 'transaction' || method === 'stream') {
        throw new Error(`${String(method)}() needs requireTenant({ transaction: 'request' })`);
      }
      return (...args: unknown[]) =>
        withTenant(pool, context, (tx) => (tx[method] as (...a: unknown[]) => Promise<unknown>).apply(tx, args));
    },
  });
}

const Uuid = z.uuid();
const tenantNotFound = () => new NotFoundError('Tenant not found');

/**
 * Runs the rest of the request inside the scope's transaction. Slonik retries a transaction
 * that fails with a transaction-rollback error (SQLSTATE class 40), but the rest of a request
 * cannot be run twice; such a failure is answered 503 for the client to retry instead.
 */
async function runInScope(
  ctx: ApiContext,
  next: () => Promise<unknown>,
  context: TenantContext,
  open: (tx: TenantConnection) => TenantScope | Promise<TenantScope>,
  mode: 'request' | 'statement' = 'request',
): Promise<void> {
  const { pool } = ctx.services;
  if (mode === 'statement') {
    const scope = await withTenant(pool, context, async (tx) => open(tx));
    ctx.state.scope = { ...scope, tx: perStatementConnection(pool, context) };
    try {
      await next();
    } finally {
      ctx.state.scope = undefined;
    }
    return;
  }
  await withTenant(pool, context, async (tx) => {
    ctx.state.scope = await open(tx);
    try {
      await next();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && /^40[0-9A-Z]{3}$/.test(code)) {
        throw new ServiceUnavailableError('transaction_conflict', 'The request collided with another; retry it');
      }
      throw error;
    } finally {
      ctx.state.scope = undefined;
    }
  });
}

export function requireTenant(options: RequireTenantOptions = {}): ApiMiddleware {
  return withMeta(
    async function requireTenant(ctx, next) {
      const principal = principalOf(ctx);
      const requested = (options.param ? ctx.params[options.param] : ctx.get('x-tenant-id')) || null;
      if (requested !== null && !Uuid.safeParse(requested).success) throw tenantNotFound();

      if (principal.kind === 'apiKey') {
        const { tenantId, role } = principal;
        if (requested !== null && requested !== tenantId) throw tenantNotFound();
        return runInScope(
          ctx,
          next,
          { tenantId },
          async (tx) => {
            await touchApiKey(tx, principal.apiKeyId);
            return { tenantId, role, platform: false, tx };
          },
          options.transaction,
        );
      }

      const platform = Boolean(options.platform && principal.isAdmin);
      const { userId } = principal;
      if (requested === null) {
        if (!platform) throw new BadRequestError('tenant_required', 'Choose a tenant with the x-tenant-id header');
        return runInScope(ctx, next, { userId, platform }, (tx) => ({
          tenantId: null,
          role: null,
          platform: true,
          tx,
        }));
      }
      const tenantId = requested;
      return runInScope(
        ctx,
        next,
        { tenantId, userId, platform },
        async (tx) => {
          const role = await findMembershipRole(tx, { tenantId, userId });
          if (!role) throw tenantNotFound();
          return { tenantId, role, platform, tx };
        },
        options.transaction,
      );
    },
    { tenantHeader: options.param ? undefined : options.platform ? 'optional' : 'required', errors: [400, 404] },
  );
}
