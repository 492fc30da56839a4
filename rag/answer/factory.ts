import type { Config } from '../../config.ts';
import { createOpenAIClient } from '../provider/openai-client.ts';
import type { Answerer } from './answerer.ts';
import { ExtractiveAnswerer } from './extractive.ts';
import { OpenAIChatAnswerer } from './openai-chat.ts';

export type AnswererConfig = Pick<Config, 'CHAT_MODEL' | 'OPENAI_BASE_URL' | 'OPENAI_API_KEY'>;

/** A chat model when an OpenAI-compatible endpoint is configured; otherwise extractive answers. */
export function createAnswerer(config: AnswererConfig): Answerer {
  if (config.OPENAI_BASE_URL === undefined && !config.OPENAI_API_KEY) return new ExtractiveAnswerer();
  return new OpenAIChatAnswerer({
    client: createOpenAIClient({ baseURL: config.OPENAI_BASE_URL, apiKey: config.OPENAI_API_KEY }),
    model: config.CHAT_MODEL,
  });
}
