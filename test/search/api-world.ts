// The search world behind the API: accounts made through the API itself (tenant A's owner
// Alice, its member Mia, an API key of A; tenant B's owner Bob), and the documents of
// world.ts written under their contexts.
import type { TestFn } from 'ava';
import {
  addMember,
  call,
  signUp,
  startApi,
  tenantOwner,
  type Account,
  type ApiHarness,
  type ApiOptions,
} from '../api/harness.ts';
import { seedSearchWorld, type SearchWorld } from './world.ts';

export interface ApiSearchWorld {
  readonly alice: Account & { tenantId: string };
  readonly mia: Account & { tenantId: string };
  readonly bob: Account & { tenantId: string };
  /** An API key of tenant A with the member role. */
  readonly apiKey: string;
  readonly docs: SearchWorld;
}

export async function createApiSearchWorld(api: ApiHarness): Promise<ApiSearchWorld> {
  const [alice, bob, member] = await Promise.all([
    tenantOwner(api, 'alice'),
    tenantOwner(api, 'bob'),
    signUp(api, 'mia'),
  ]);
  await addMember(api, alice.token, alice.tenantId, member.email, 'member');
  const key = await call(api, 'POST', '/v1/api-keys', {
    token: alice.token,
    tenantId: alice.tenantId,
    body: { name: 'search tests', role: 'member' },
  });
  if (key.status !== 201) throw new Error(`create API key failed: ${JSON.stringify(key.body)}`);
  const docs = await seedSearchWorld(api.pool, alice, bob);
  return { alice, bob, mia: { ...member, tenantId: alice.tenantId }, apiKey: key.body.key as string, docs };
}

export interface SearchApiContext {
  api: ApiHarness;
  world: ApiSearchWorld;
}

/**
 * Gives a test file one API and one search world for all its tests. `overrides` are config
 * settings, or a function that provides them once the stand-in servers they name are up.
 */
export function withSearchWorld(
  test: TestFn<SearchApiContext>,
  overrides: Record<string, string> | (() => Promise<Record<string, string>>) = {},
  options: ApiOptions = {},
): TestFn<SearchApiContext> {
  test.before(async (t) => {
    const api = await startApi(typeof overrides === 'function' ? await overrides() : overrides, options);
    t.context = { api, world: await createApiSearchWorld(api) };
  });
  test.after.always(async (t) => {
    await t.context.api?.close();
  });
  return test;
}
