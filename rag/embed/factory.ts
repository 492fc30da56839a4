import type { Config } from '../../config.ts';
import { createOpenAIClient } from '../provider/openai-client.ts';
import type { Embedder } from './embedder.ts';
import { LocalHashEmbedder } from './local-hash.ts';
import { OpenAIEmbedder } from './openai.ts';

export type EmbedderConfig = Pick<
  Config,
  'EMBEDDING_PROVIDER' | 'EMBEDDING_MODEL' | 'EMBEDDING_DIMENSIONS' | 'OPENAI_BASE_URL' | 'OPENAI_API_KEY'
>;

/** The embedder the configuration names: the offline hash embedder, or an OpenAI-compatible API. */
export function createEmbedder(config: EmbedderConfig): Embedder {
  switch (config.EMBEDDING_PROVIDER) {
    case 'local':
      return new LocalHashEmbedder({ model: config.EMBEDDING_MODEL, dimensions: config.EMBEDDING_DIMENSIONS });
    case 'openai':
      return new OpenAIEmbedder({
        client: createOpenAIClient({ baseURL: config.OPENAI_BASE_URL, apiKey: config.OPENAI_API_KEY }),
        model: config.EMBEDDING_MODEL,
        dimensions: config.EMBEDDING_DIMENSIONS,
        // Only the text-embedding-3 family accepts `dimensions`; other servers may reject it.
        requestDimensions: config.EMBEDDING_MODEL.startsWith('text-embedding-3'),
      });
  }
}
