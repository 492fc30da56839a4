// Middleware describes itself for the OpenAPI document: each factory tags the function it
// returns with what it requires (credentials, tenant header) and which errors it may answer.
// buildOpenApiDocument() reads these tags off the router's layers.
import type { Contract } from './contract.ts';

export interface OperationMeta {
  readonly contract?: Contract;
  /** Which credentials the route accepts. */
  readonly security?: 'user' | 'userOrApiKey';
  /** Whether the route reads the tenant from the x-tenant-id header. */
  readonly tenantHeader?: 'required' | 'optional';
  readonly errors?: readonly number[];
}

const META = Symbol('quarry.openapi');

/** Tags a middleware function with its OpenAPI description and returns it. */
export function withMeta<F extends object>(middleware: F, meta: OperationMeta): F {
  Object.defineProperty(middleware, META, { value: meta, enumerable: false });
  return middleware;
}

export function metaOf(middleware: unknown): OperationMeta | undefined {
  if (typeof middleware !== 'function') return undefined;
  return (middleware as { [META]?: OperationMeta })[META];
}
