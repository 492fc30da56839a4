// The shapes that middleware and handlers share: the services on every context
// (ctx.services, set once in createApp), and the per-request state that the middleware
// chain fills in (request id, logger, who is calling, and the tenant scope).
import type { Middleware, Next, ParameterizedContext } from 'koa';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import type { Config } from '../config.ts';
import type { ApiKeyRole } from '../db/queries/api-keys.ts';
import type { Bm25Parameters } from '../db/queries/search/lexical.ts';
import type { TenantRole } from '../db/queries/memberships.ts';
import type { TenantConnection } from '../db/with-tenant.ts';
import type { Answerer } from '../rag/answer/answerer.ts';
import type { Embedder } from '../rag/embed/embedder.ts';
import type { GoogleMail } from '../mail/google.ts';
import type { PushVerifier } from '../mail/push.ts';
import type { TokenCipher } from '../mail/token-cipher.ts';
import type { Searcher } from '../search/query-log.ts';
import type { HybridFusion } from '../search/service.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { LoginLimiter } from './auth/login-limiter.ts';
import type { PasswordHasher } from './auth/passwords.ts';
import type { TokenService } from './auth/tokens.ts';
import type { Metrics } from './metrics.ts';
import type { Contract, InputOf } from './openapi/contract.ts';

/** What createApp is given. */
export interface ApiDeps {
  readonly config: Config;
  readonly pool: DatabasePool;
  readonly temporal: Client;
  readonly logger: Logger;
  /** Embeds search queries; by default the provider the configuration names. */
  readonly embedder?: Embedder;
  /** Writes answers; by default a chat model when one is configured, else extractive answers. */
  readonly answerer?: Answerer;
}

/** What every request can reach through ctx.services. */
export interface ApiServices extends ApiDeps {
  readonly tokens: TokenService;
  readonly passwords: PasswordHasher;
  readonly loginLimiter: LoginLimiter;
  readonly metrics: Metrics;
  /** Where uploads stream to. */
  readonly blobs: BlobStore;
  readonly embedder: Embedder;
  readonly answerer: Answerer;
  /** The lexical leg's BM25 parameters (BM25_K1, BM25_B). */
  readonly bm25: Bm25Parameters;
  /** How hybrid search fuses its legs (HYBRID_FUSION, HYBRID_DENSE_WEIGHT). */
  readonly fusion: HybridFusion;
  /**
   * Mail connections: Google (null without GOOGLE_OAUTH_CLIENT_ID), the token cipher (null without a
   * key), and the verifier of Gmail push notifications (null unless MAIL_PUSH_* are set).
   */
  readonly mail: {
    readonly google: GoogleMail | null;
    readonly cipher: TokenCipher | null;
    readonly push: PushVerifier | null;
  };
}

/** A person signed in with an access token. */
export interface UserPrincipal {
  readonly kind: 'user';
  readonly userId: string;
  readonly sessionId: string;
  /** users.is_admin, read with the session on this request. */
  readonly isAdmin: boolean;
}

/** A machine client holding an API key, bound to the key's tenant. */
export interface ApiKeyPrincipal {
  readonly kind: 'apiKey';
  readonly apiKeyId: string;
  readonly tenantId: string;
  readonly role: ApiKeyRole;
}

export type Principal = UserPrincipal | ApiKeyPrincipal;

/**
 * The tenant a request acts in, with the caller's role there, and the withTenant transaction
 * that requireTenant() opened and checked membership in. A platform admin may act with no
 * tenant at all on routes that allow it (tenantId and role are then null).
 */
export type TenantScope =
  | { readonly tenantId: string; readonly role: TenantRole; readonly platform: boolean; readonly tx: TenantConnection }
  | { readonly tenantId: null; readonly role: null; readonly platform: true; readonly tx: TenantConnection };

export interface ApiState {
  requestId: string;
  log: Logger;
  auth?: Principal;
  scope?: TenantScope;
}

export interface ApiContextExtension {
  services: ApiServices;
}

/**
 * The context of route middleware and handlers; `Extra` adds to the state (validate() adds
 * `input`). It names only what our code uses of the router's context (the path parameters),
 * so that contexts with more state stay assignable to it.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type ApiContext<Extra = {}> = ParameterizedContext<
  ApiState & Extra,
  ApiContextExtension & { params: Record<string, string> }
>;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type ApiMiddleware<Extra = {}> = (ctx: ApiContext<Extra>, next: Next) => Promise<void>;

/** The context of a handler behind validate(contract): ctx.state.input holds the parsed input. */
export type RouteContext<C extends Contract> = ApiContext<{ input: InputOf<C> }>;

/** Middleware mounted on the app itself, ahead of routing. */
export type AppMiddleware = Middleware<ApiState, ApiContextExtension>;

/** The authenticated caller; authenticate() must run first. */
export function principalOf(ctx: { state: ApiState }): Principal {
  if (!ctx.state.auth) throw new Error('authenticate() must run before this handler');
  return ctx.state.auth;
}

/** The user a caller acts as: null for an API key, and before authenticate(). */
export function userIdOf(principal: Principal | undefined): string | null {
  return principal?.kind === 'user' ? principal.userId : null;
}

/** The API key a caller holds: null for a signed-in user, and before authenticate(). */
export function apiKeyIdOf(principal: Principal | undefined): string | null {
  return principal?.kind === 'apiKey' ? principal.apiKeyId : null;
}

/** The signed-in user; authenticate() (which admits users only by default) must run first. */
export function userOf(ctx: { state: ApiState }): UserPrincipal {
  const principal = principalOf(ctx);
  if (principal.kind !== 'user') throw new Error('this handler needs a user: mount authenticate() without apiKeys');
  return principal;
}

/** The tenant scope; requireTenant() must run first. */
export function scopeOf(ctx: { state: ApiState }): TenantScope {
  if (!ctx.state.scope) throw new Error('requireTenant() must run before this handler');
  return ctx.state.scope;
}

/** The tenant scope of a route that always has a tenant (requireTenant() without platform access). */
export function tenantOf(ctx: { state: ApiState }): Extract<TenantScope, { tenantId: string }> {
  const scope = scopeOf(ctx);
  if (scope.tenantId === null) throw new Error('this handler needs a tenant: mount requireTenant() without platform');
  return scope;
}

/** The caller as the search service and the query log know it: the tenant, and its user or API key. */
export function searcherOf(ctx: { state: ApiState }): Searcher {
  const principal = principalOf(ctx);
  return {
    tenantId: tenantOf(ctx).tenantId,
    userId: userIdOf(principal),
    apiKeyId: apiKeyIdOf(principal),
  };
}
