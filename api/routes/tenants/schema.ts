// Contracts of /v1/tenants: create a tenant, list mine.
import { z } from 'zod';
import { MyTenantRow } from '../../../db/queries/tenants.ts';
import type { Contract } from '../../openapi/contract.ts';
import { Timestamp } from '../../schemas.ts';

export const MyTenant = MyTenantRow.extend({ createdAt: Timestamp }).meta({
  id: 'MyTenant',
  description: 'A tenant the caller belongs to, with their role in it',
});
export type MyTenant = z.infer<typeof MyTenant>;

export const CreateTenantBody = z.object({ name: z.string().trim().min(1).max(200) });
export type CreateTenantBody = z.infer<typeof CreateTenantBody>;

export const CreateTenant = {
  summary: 'Create a tenant; the caller becomes its owner',
  body: CreateTenantBody,
  responses: { 201: { description: 'The new tenant, with the role `owner`', schema: MyTenant } },
} satisfies Contract;

export const TenantList = z.object({ tenants: z.array(MyTenant) }).meta({ id: 'TenantList' });
export type TenantList = z.infer<typeof TenantList>;

export const ListTenants = {
  summary: 'The tenants the caller belongs to',
  responses: { 200: { description: 'Oldest first, with the caller’s role in each', schema: TenantList } },
} satisfies Contract;
