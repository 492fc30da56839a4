// /v1/tenants/:tenantId/members: who belongs to a tenant. Any member may list; owners and
// admins manage, and rules.ts says who may touch owners.
import Router from '@koa/router';
import {
  deleteMembership,
  findMember,
  insertMembership,
  listMembers,
  updateMembershipRole,
} from '../../../db/queries/memberships.ts';
import { findUserIdByEmail } from '../../../db/queries/users.ts';
import { audit } from '../../audit.ts';
import { tenantOf, type ApiContextExtension, type ApiState, type RouteContext } from '../../context.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import { authenticate } from '../../middleware/authenticate.ts';
import { requireRole } from '../../middleware/require-role.ts';
import { requireTenant } from '../../middleware/require-tenant.ts';
import { validate } from '../../middleware/validate.ts';
import { assertAnotherOwnerRemains, assertMayChange } from './rules.ts';
import { serialized } from '../../schemas.ts';
import { AddMember, ChangeMemberRole, ListMembers, RemoveMember, type MemberList } from './schema.ts';

export function createMembersRouter(): Router<ApiState, ApiContextExtension> {
  const router = new Router<ApiState, ApiContextExtension>({ prefix: '/v1/tenants/:tenantId/members' });
  const inTenant = () => requireTenant({ param: 'tenantId' });
  router.get('/', authenticate(), inTenant(), validate(ListMembers), list);
  router.post('/', authenticate(), inTenant(), requireRole('admin'), validate(AddMember), add);
  router.patch('/:userId', authenticate(), inTenant(), requireRole('admin'), validate(ChangeMemberRole), changeRole);
  router.delete('/:userId', authenticate(), inTenant(), requireRole('admin'), validate(RemoveMember), remove);
  return router;
}

const memberNotFound = () => new NotFoundError('Member not found');

async function list(ctx: RouteContext<typeof ListMembers>) {
  const { tenantId, tx } = tenantOf(ctx);
  ctx.body = { members: (await listMembers(tx, tenantId)).map(serialized) } satisfies MemberList;
}

async function add(ctx: RouteContext<typeof AddMember>) {
  const { tenantId, role: actorRole, tx } = tenantOf(ctx);
  const { email, role } = ctx.state.input.body;
  assertMayChange(actorRole, null, role);
  const userId = await findUserIdByEmail(tx, email);
  if (!userId) throw new NotFoundError('No account has this email');
  if (!(await insertMembership(tx, { tenantId, userId, role }))) {
    throw new ConflictError('already_member', 'This account is already a member of the tenant');
  }
  await audit(ctx, tx, { action: 'member.add', tenantId, target: { type: 'user', id: userId }, details: { role } });
  const member = await findMember(tx, { tenantId, userId });
  if (!member) throw memberNotFound();
  ctx.status = 201;
  ctx.body = serialized(member);
}

async function changeRole(ctx: RouteContext<typeof ChangeMemberRole>) {
  const { tenantId, role: actorRole, tx } = tenantOf(ctx);
  const { userId } = ctx.state.input.params;
  const { role } = ctx.state.input.body;
  const member = await findMember(tx, { tenantId, userId });
  if (!member) throw memberNotFound();
  assertMayChange(actorRole, member.role, role);
  if (member.role === 'owner' && role !== 'owner') await assertAnotherOwnerRemains(tx, tenantId, userId);
  if (member.role !== role) {
    await updateMembershipRole(tx, { tenantId, userId, role });
    await audit(ctx, tx, {
      action: 'member.role_change',
      tenantId,
      target: { type: 'user', id: userId },
      details: { from: member.role, to: role },
    });
  }
  ctx.body = serialized({ ...member, role });
}

async function remove(ctx: RouteContext<typeof RemoveMember>) {
  const { tenantId, role: actorRole, tx } = tenantOf(ctx);
  const { userId } = ctx.state.input.params;
  const member = await findMember(tx, { tenantId, userId });
  if (!member) throw memberNotFound();
  assertMayChange(actorRole, member.role, null);
  if (member.role === 'owner') await assertAnotherOwnerRemains(tx, tenantId, userId);
  await deleteMembership(tx, { tenantId, userId });
  await audit(ctx, tx, {
    action: 'member.remove',
    tenantId,
    target: { type: 'user', id: userId },
    details: { role: member.role },
  });
  ctx.status = 204;
}
