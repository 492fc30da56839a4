// /v1/auth: accounts and sessions.
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import { UniqueIntegrityConstraintViolationError } from 'slonik';
import { insertSession, revokeSession } from '../../../db/queries/sessions.ts';
import { listMyTenants } from '../../../db/queries/tenants.ts';
import { findLoginByEmail, getUser, insertUser } from '../../../db/queries/users.ts';
import { withTenant } from '../../../db/with-tenant.ts';
import { audit } from '../../audit.ts';
import { userOf, type ApiContextExtension, type ApiState, type RouteContext } from '../../context.ts';
import { ConflictError, UnauthorizedError } from '../../errors.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { validate } from '../../middleware/validate.ts';
import { serialized } from '../../schemas.ts';
import { Login, Logout, Me, Register, type LoginResponse, type MeResponse } from './schema.ts';

export function createAuthRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/auth' });
  router.post('/register', validate(Register), register);
  router.post('/login', validate(Login), login);
  router.post('/logout', authenticate(), validate(Logout), logout);
  router.get('/me', authenticate(), validate(Me), me);
  return router;
}

async function register(ctx: RouteContext<typeof Register>) {
  const { email, password, displayName } = ctx.state.input.body;
  const id = randomUUID();
  const passwordHash = await ctx.services.passwords.hash(password);
  try {
    const user = await withTenant(ctx.services.pool, { userId: id }, async (tx) => {
      const row = await insertUser(tx, { id, email, passwordHash, displayName: displayName ?? '' });
      await audit(ctx, tx, { action: 'user.register', tenantId: null, actorUserId: id, target: { type: 'user', id } });
      return row;
    });
    ctx.status = 201;
    ctx.body = serialized(user);
  } catch (error) {
    if (error instanceof UniqueIntegrityConstraintViolationError) {
      throw new ConflictError('email_taken', 'An account with this email already exists');
    }
    throw error;
  }
}

async function login(ctx: RouteContext<typeof Login>) {
  const { email, password } = ctx.state.input.body;
  const { pool, passwords, loginLimiter, tokens } = ctx.services;
  await loginLimiter.attempt(email, ctx.ip);
  const account = await findLoginByEmail(pool, email);
  const valid = await passwords.verify(account?.passwordHash ?? null, password);
  if (!account || !valid) throw new UnauthorizedError('invalid_credentials', 'The email or password is wrong');
  await loginLimiter.succeeded(email, ctx.ip);

  const sessionId = randomUUID();
  const expiresAt = new Date(Date.now() + tokens.ttlSeconds * 1000);
  const user = await withTenant(pool, { userId: account.id }, async (tx) => {
    await insertSession(tx, {
      id: sessionId,
      userId: account.id,
      expiresAt,
      userAgent: ctx.get('user-agent').slice(0, 500) || null,
      ip: ctx.ip || null,
    });
    await audit(ctx, tx, {
      action: 'auth.login',
      tenantId: null,
      actorUserId: account.id,
      target: { type: 'session', id: sessionId },
    });
    return getUser(tx, account.id);
  });
  const token = await tokens.issue({ userId: account.id, sessionId }, expiresAt);
  ctx.body = { token, expiresAt: expiresAt.toISOString(), user: serialized(user) } satisfies LoginResponse;
}

async function logout(ctx: RouteContext<typeof Logout>) {
  const { userId, sessionId } = userOf(ctx);
  await withTenant(ctx.services.pool, { userId }, async (tx) => {
    await revokeSession(tx, sessionId);
    await audit(ctx, tx, { action: 'auth.logout', tenantId: null, target: { type: 'session', id: sessionId } });
  });
  ctx.status = 204;
}

async function me(ctx: RouteContext<typeof Me>) {
  const { userId } = userOf(ctx);
  const { user, tenants } = await withTenant(ctx.services.pool, { userId }, async (tx) => ({
    user: await getUser(tx, userId),
    tenants: await listMyTenants(tx),
  }));
  ctx.body = { user: serialized(user), tenants: tenants.map(serialized) } satisfies MeResponse;
}
