// Contracts of /v1/tenants/:tenantId/members: list, add, change role, remove.
import { z } from 'zod';
import { MemberRow, TENANT_ROLES } from '../../../db/queries/memberships.ts';
import type { Contract } from '../../openapi/contract.ts';
import { Email, Timestamp, Uuid } from '../../schemas.ts';

export const Member = MemberRow.extend({ createdAt: Timestamp }).meta({ id: 'Member' });
export type Member = z.infer<typeof Member>;

const TenantParams = z.object({ tenantId: Uuid });
const MemberParams = TenantParams.extend({ userId: Uuid });

export const MemberList = z.object({ members: z.array(Member) }).meta({ id: 'MemberList' });
export type MemberList = z.infer<typeof MemberList>;

export const ListMembers = {
  summary: 'The members of a tenant',
  params: TenantParams,
  responses: { 200: { description: 'Members in the order they joined', schema: MemberList } },
} satisfies Contract;

export const AddMember = {
  summary: 'Add an existing account to the tenant',
  description: 'Owners and admins only; only owners may add owners.',
  params: TenantParams,
  body: z.object({ email: Email, role: z.enum(TENANT_ROLES) }),
  responses: { 201: { description: 'The new member', schema: Member } },
  errors: [409],
} satisfies Contract;

export const ChangeMemberRole = {
  summary: 'Change a member’s role',
  description: 'Owners and admins only; only owners may promote to or change an owner. The last owner stays owner.',
  params: MemberParams,
  body: z.object({ role: z.enum(TENANT_ROLES) }),
  responses: { 200: { description: 'The member with the new role', schema: Member } },
  errors: [409],
} satisfies Contract;

export const RemoveMember = {
  summary: 'Remove a member from the tenant',
  description: 'Owners and admins only; only owners may remove an owner. The last owner cannot be removed.',
  params: MemberParams,
  responses: { 204: { description: 'The member is removed' } },
  errors: [409],
} satisfies Contract;
