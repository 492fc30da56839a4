// providerErrors(): a model provider's failure, as the client should see it. Rate limiting and
// outages (TransientProviderError) are a 503 `provider_unavailable` with Retry-After, the
// provider's own when it sent one; a rejected or unusable call (PermanentProviderError) is a
// 502; provider settings that cannot work are a 503 without a retry hint. Mounted after
// requireTenant(), so the request's transaction is rolled back first: nothing is recorded.
import { PermanentProviderError, ProviderConfigurationError, TransientProviderError } from '../../rag/errors.ts';
import type { ApiMiddleware } from '../context.ts';
import { BadGatewayError, ProviderUnavailableError, ServiceUnavailableError, type ApiError } from '../errors.ts';
import { withMeta } from '../openapi/meta.ts';

/** When the provider gave no Retry-After. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

function asApiError(error: unknown): ApiError | null {
  if (error instanceof TransientProviderError) {
    const seconds = error.retryAfterMs === undefined ? DEFAULT_RETRY_AFTER_SECONDS : error.retryAfterMs / 1000;
    return new ProviderUnavailableError(Math.max(1, Math.ceil(seconds)));
  }
  if (error instanceof PermanentProviderError) {
    return new BadGatewayError('provider_rejected', 'The model provider rejected the request', {
      provider: error.provider,
      status: error.status ?? null,
    });
  }
  if (error instanceof ProviderConfigurationError) {
    return new ServiceUnavailableError('provider_misconfigured', 'The model provider is not configured correctly');
  }
  return null;
}

export function providerErrors(): ApiMiddleware {
  return withMeta(
    async function providerErrors(ctx, next) {
      try {
        await next();
      } catch (error) {
        throw asApiError(error) ?? error;
      }
    },
    { errors: [502, 503] },
  );
}
