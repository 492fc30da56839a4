// The openai SDK client both providers use. The SDK reads OPENAI_* environment variables for
// anything not passed, so everything is passed: config.ts stays the only reader of the env.
import OpenAI from 'openai';
import { ProviderConfigurationError } from '../errors.ts';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIClientOptions {
  readonly baseURL?: string | undefined;
  readonly apiKey?: string | undefined;
  /** Per request; Temporal's activity timeouts bound the whole call. */
  readonly timeoutMs?: number;
}

export function createOpenAIClient(options: OpenAIClientOptions): OpenAI {
  const baseURL = options.baseURL ?? OPENAI_DEFAULT_BASE_URL;
  if (!options.apiKey && baseURL === OPENAI_DEFAULT_BASE_URL) {
    throw new ProviderConfigurationError('OPENAI_API_KEY is required to use the OpenAI API');
  }
  return new OpenAI({
    baseURL,
    // Self-hosted OpenAI-compatible servers (Ollama, vLLM) usually need no key, but the SDK wants one.
    apiKey: options.apiKey || 'unused',
    organization: null,
    project: null,
    webhookSecret: null,
    // Temporal retries activities with backoff; retrying here as well would multiply the attempts.
    maxRetries: 0,
    timeout: options.timeoutMs ?? 60_000,
  });
}

/** A short, stable label for error messages: the host of the endpoint. */
export function providerLabel(client: OpenAI): string {
  try {
    return new URL(client.baseURL).host;
  } catch {
    return client.baseURL;
  }
}
