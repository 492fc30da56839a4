// authenticate(): who is calling. `Authorization: Bearer <jwt>` signs in a user;
// `Authorization: Bearer qk_…` or `x-api-key: qk_…` presents an API key. Routes admit users
// only unless they opt in with { apiKeys: true }; an API key elsewhere is a 403.
import { authenticateAccessToken, authenticateApiKey } from '../auth/credentials.ts';
import { isApiKeyShaped } from '../auth/api-keys.ts';
import type { ApiMiddleware } from '../context.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { withMeta } from '../openapi/meta.ts';

function presentedCredential(authorization: string, apiKeyHeader: string): string | null {
  if (apiKeyHeader) return apiKeyHeader.trim();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1] ?? null;
}

export function authenticate(options: { apiKeys?: boolean } = {}): ApiMiddleware {
  const acceptApiKeys = options.apiKeys ?? false;
  return withMeta(
    async function authenticate(ctx, next) {
      const credential = presentedCredential(ctx.get('authorization'), ctx.get('x-api-key'));
      if (!credential) throw new UnauthorizedError();
      if (isApiKeyShaped(credential)) {
        const principal = await authenticateApiKey(ctx.services, credential);
        if (!acceptApiKeys)
          throw new ForbiddenError('This endpoint needs a signed-in user, not an API key', 'user_required');
        ctx.state.auth = principal;
      } else {
        ctx.state.auth = await authenticateAccessToken(ctx.services, credential);
      }
      await next();
    },
    { security: acceptApiKeys ? 'userOrApiKey' : 'user', errors: acceptApiKeys ? [401] : [401, 403] },
  );
}
