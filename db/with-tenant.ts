// The single door to tenant data. Opens a Slonik transaction, sets the row-level-security
// context with set_config(..., true) as its first statement, and hands on only that
// transaction connection. The settings are transaction-local: they vanish at commit, and a
// pooled connection never carries one caller's context into the next.
import { sql, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';

export interface TenantContext {
  /** The tenant whose rows are visible (app.tenant_id). */
  readonly tenantId?: string | null;
  /** The acting user (app.user_id): their sessions, their own account row. */
  readonly userId?: string | null;
  /** Platform scope (app.platform): platform jobs, for platform admins and maintenance. */
  readonly platform?: boolean;
}

export type TenantConnection = DatabaseTransactionConnection;

const uuid = z.uuid();

/** Thrown when a tenant context carries an id that is not a UUID. */
export class InvalidTenantContextError extends Error {
  constructor(readonly field: string) {
    super(`Tenant context field ${field} is not a UUID`);
    this.name = 'InvalidTenantContextError';
  }
}

function checked(field: string, value: string | null | undefined): string {
  if (value === undefined || value === null) return '';
  if (!uuid.safeParse(value).success) throw new InvalidTenantContextError(field);
  return value;
}

export async function withTenant<T>(
  pool: DatabasePool,
  context: TenantContext,
  handler: (connection: TenantConnection) => Promise<T>,
): Promise<T> {
  const tenantId = checked('tenantId', context.tenantId);
  const userId = checked('userId', context.userId);
  const platform = context.platform ? 'on' : '';
  return pool.transaction(async (connection) => {
    await connection.query(sql.unsafe`
      SELECT set_config('app.tenant_id', ${tenantId}, true),
             set_config('app.user_id', ${userId}, true),
             set_config('app.platform', ${platform}, true)
    `);
    return handler(connection);
  });
}
