// Builds /openapi.json from the routers themselves: every route's path and method come from
// its router layer, its schemas from the contract given to validate(), and its security,
// tenant header and error responses from the tags the other middleware carry (meta.ts).
// A route cannot be served without appearing here, nor documented differently from how it
// validates.
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ErrorBody } from '../schemas.ts';
import type { Contract } from './contract.ts';
import { metaOf, type OperationMeta } from './meta.ts';

/** The part of a @koa/router Router this needs. */
export interface RouterLike {
  readonly stack: readonly { readonly methods: string[]; readonly path: string | RegExp; readonly stack: unknown[] }[];
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed JSON (`invalid_json`), input that fails validation (`validation_failed`, with field paths), or a missing tenant (`tenant_required`)',
  401: 'Missing, bad, expired or revoked credentials',
  403: 'The caller’s role or kind of credential does not allow this',
  404: 'Not found, or not in the caller’s tenant (the answer is the same)',
  409: 'Conflicts with the current state',
  413: 'The body is larger than the configured limit',
  415: 'The body is not JSON (`unsupported_media_type`), or an uploaded file’s bytes are in a format Quarry cannot ingest (`unsupported_format`, with `details.detectedType`), or a text file declares a charset no decoder knows (`unsupported_charset`)',
  429: 'Too many failed attempts; see Retry-After',
  501: 'This deployment is not configured for the feature (`mail_not_configured`)',
  503: 'A dependency is not available',
};

const TenantHeader = (required: boolean) =>
  z.object({
    'x-tenant-id': required
      ? z.uuid().meta({ description: 'The tenant to act in (ignored for API keys, which are bound to theirs)' })
      : z.uuid().optional().meta({ description: 'The tenant to act in; platform admins may omit it' }),
  });

function mergeMeta(middleware: readonly unknown[]): OperationMeta & { errors: readonly number[] } {
  const metas = middleware.map(metaOf).filter((meta): meta is OperationMeta => meta !== undefined);
  const merged: OperationMeta = metas.reduce((all, meta) => ({ ...all, ...meta }), {});
  return { ...merged, errors: metas.flatMap((meta) => meta.errors ?? []) };
}

function operation(method: string, path: string, meta: ReturnType<typeof mergeMeta>, contract: Contract): RouteConfig {
  const hasBody = Boolean(contract.body ?? contract.multipart);
  const errors = new Set([...meta.errors, ...(contract.errors ?? []), ...(hasBody ? [400, 413, 415] : [])]);
  const bodyContent = {
    ...(contract.body ? { 'application/json': { schema: contract.body } } : {}),
    ...(contract.multipart ? { 'multipart/form-data': { schema: contract.multipart } } : {}),
  };
  const responses: RouteConfig['responses'] = {};
  for (const [status, spec] of Object.entries(contract.responses)) {
    responses[status] = {
      description: spec.description,
      ...(spec.schema ? { content: { [spec.contentType ?? 'application/json']: { schema: spec.schema } } } : {}),
    };
  }
  for (const status of [...errors].sort((a, b) => a - b)) {
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: { 'application/json': { schema: ErrorBody } },
    };
  }
  return {
    method: method as RouteConfig['method'],
    path,
    summary: contract.summary,
    ...(contract.description ? { description: contract.description } : {}),
    tags: [path.startsWith('/v1/') ? (path.split('/')[2] ?? 'v1') : 'system'],
    security:
      meta.security === 'user'
        ? [{ bearer: [] }]
        : meta.security === 'userOrApiKey'
          ? [{ bearer: [] }, { apiKey: [] }]
          : [],
    request: {
      ...(contract.params ? { params: contract.params } : {}),
      ...(contract.query ? { query: contract.query } : {}),
      ...(meta.tenantHeader ? { headers: TenantHeader(meta.tenantHeader === 'required') } : {}),
      ...(hasBody ? { body: { content: bodyContent } } : {}),
    },
    responses,
  };
}

export function buildOpenApiDocument(routers: readonly RouterLike[], info: { title: string; version: string }): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An access token from POST /v1/auth/login, or (where API keys are accepted) an API key `qk_…`',
  });
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'x-api-key' });
  for (const router of routers) {
    for (const layer of router.stack) {
      const meta = mergeMeta(layer.stack);
      if (!meta.contract || typeof layer.path !== 'string') continue;
      const path = layer.path.replace(/:(\w+)/g, '{$1}');
      for (const method of layer.methods.filter((name) => name !== 'HEAD')) {
        registry.registerPath(operation(method.toLowerCase(), path, meta, meta.contract));
      }
    }
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({ openapi: '3.1.0', info });
}
