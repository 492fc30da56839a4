// The one place that turns an openai SDK failure into our error hierarchy, for the embedder
// and the chat answerer alike.
import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { PermanentProviderError, TransientProviderError } from '../errors.ts';
import { retryAfterMs } from './retry-after.ts';

/** Statuses worth retrying: timeout, conflict, rate limit, and any server-side failure. */
function isTransientStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The provider's own message (`{"error":{"message":…}}`), without the SDK's status prefix. */
function providerMessage(error: APIError): string {
  const body: unknown = error.error;
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  return error.message;
}

/**
 * Maps an SDK error to TransientProviderError or PermanentProviderError. A caller's abort is
 * returned unchanged, so cancellation stays cancellation; so is anything that is not an SDK error.
 */
export function classifyProviderError(error: unknown, provider: string, model: string): unknown {
  if (error instanceof APIUserAbortError || !(error instanceof APIError)) return error;
  if (error instanceof APIConnectionError) {
    const message = `${provider} is unreachable: ${error.message}`;
    return new TransientProviderError(provider, model, undefined, message, undefined, { cause: error });
  }
  const apiError = error as APIError; // instanceof narrows to APIError<any, any, any>
  const status = apiError.status ?? 0;
  const message = `${provider} answered ${status}: ${providerMessage(apiError)}`;
  if (isTransientStatus(status)) {
    const delay = retryAfterMs(apiError.headers);
    return new TransientProviderError(provider, model, status, message, delay, { cause: error });
  }
  return new PermanentProviderError(provider, model, status, message, { cause: error });
}

/** Runs a provider call and rethrows its failure classified. */
export async function callProvider<T>(provider: string, model: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classifyProviderError(error, provider, model);
  }
}
