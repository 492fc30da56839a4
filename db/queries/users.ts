// Accounts. Rows are read and written through withTenant with app.user_id set (a user sees
// and writes their own row); the lookups before anyone is signed in go through the narrow
// SECURITY DEFINER functions of the migration.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { TenantConnection } from '../with-tenant.ts';

export const UserRow = z.object({
  id: z.uuid(),
  email: z.string(),
  displayName: z.string(),
  isAdmin: z.boolean(),
  createdAt: z.date(),
});
export type UserRow = z.infer<typeof UserRow>;

const columns = sql.fragment`
  id, email, display_name AS "displayName", is_admin AS "isAdmin", created_at AS "createdAt"
`;

/** Creates an account; the caller's context must carry the new id as app.user_id. */
export function insertUser(
  tx: TenantConnection,
  input: { id: string; email: string; passwordHash: string; displayName: string },
): Promise<UserRow> {
  return tx.one(sql.type(UserRow)`
    INSERT INTO users (id, email, password_hash, display_name)
    VALUES (${input.id}, ${input.email}, ${input.passwordHash}, ${input.displayName})
    RETURNING ${columns}
  `);
}

/** The account of the user in app.user_id (or a fellow member); throws NotFoundError when not visible. */
export function getUser(tx: TenantConnection, id: string): Promise<UserRow> {
  return tx.one(sql.type(UserRow)`SELECT ${columns} FROM users WHERE id = ${id}`);
}

const LoginRow = z.object({ id: z.uuid(), passwordHash: z.string(), isAdmin: z.boolean() });
export type LoginRow = z.infer<typeof LoginRow>;

/** Login: the id and password hash of the account with this email (auth_lookup_user). */
export function findLoginByEmail(db: CommonQueryMethods, email: string): Promise<LoginRow | null> {
  return db.maybeOne(sql.type(LoginRow)`
    SELECT id, password_hash AS "passwordHash", is_admin AS "isAdmin" FROM auth_lookup_user(${email})
  `);
}

/** Adding a member: the id of the account with this email, and nothing else (auth_user_id_by_email). */
export function findUserIdByEmail(db: CommonQueryMethods, email: string): Promise<string | null> {
  return db.maybeOneFirst(sql.type(z.object({ id: z.uuid().nullable() }))`
    SELECT auth_user_id_by_email(${email}) AS id
  `);
}
