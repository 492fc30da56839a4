// Contracts of /v1/auth: register, login, logout, me.
import { z } from 'zod';
import type { Contract } from '../../openapi/contract.ts';
import { Email, Timestamp, User } from '../../schemas.ts';
import { MyTenant } from '../tenants/schema.ts';

export const RegisterBody = z.object({
  email: Email,
  password: z.string().min(12).max(1024),
  displayName: z.string().trim().max(200).optional(),
});
export type RegisterBody = z.infer<typeof RegisterBody>;

export const Register = {
  summary: 'Create an account',
  body: RegisterBody,
  responses: { 201: { description: 'The new account', schema: User } },
  errors: [409],
} satisfies Contract;

export const LoginBody = z.object({ email: Email, password: z.string().min(1).max(1024) });
export type LoginBody = z.infer<typeof LoginBody>;

export const LoginResponse = z
  .object({
    token: z.string().meta({ description: 'Send as `Authorization: Bearer <token>`' }),
    expiresAt: Timestamp,
    user: User,
  })
  .meta({ id: 'Login' });
export type LoginResponse = z.infer<typeof LoginResponse>;

export const Login = {
  summary: 'Sign in and receive a short-lived access token',
  description: 'Failed attempts are limited per email and client address; past the limit the answer is 429.',
  body: LoginBody,
  responses: { 200: { description: 'An access token bound to a new session', schema: LoginResponse } },
  errors: [401, 429],
} satisfies Contract;

export const Logout = {
  summary: 'Revoke the session of the presented token',
  responses: { 204: { description: 'The session is revoked; its tokens no longer work' } },
} satisfies Contract;

export const MeResponse = z.object({ user: User, tenants: z.array(MyTenant) }).meta({ id: 'Me' });
export type MeResponse = z.infer<typeof MeResponse>;

export const Me = {
  summary: 'The signed-in user and their tenants',
  responses: { 200: { description: 'The account, its platform-admin flag and its tenants', schema: MeResponse } },
} satisfies Contract;
