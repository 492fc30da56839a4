import type { Config } from '../../config.ts';
import { createOpenAIClient } from '../provider/openai-client.ts';
import { ProviderConfigurationError } from '../errors.ts';
import type { Embedder } from './embedder.ts';
import { LocalHashEmbedder } from './local-hash.ts';
import { ONNX_MODELS } from './onnx-models.ts';
import { OnnxEmbedder } from './onnx.ts';
import { OpenAIEmbedder } from './openai.ts';

export type EmbedderConfig = Pick<
  Config,
  | 'EMBEDDING_PROVIDER'
  | 'EMBEDDING_MODEL'
  | 'EMBEDDING_DIMENSIONS'
  | 'EMBEDDING_MODEL_DIR'
  | 'EMBEDDING_THREADS'
  | 'EMBEDDING_BATCH_TOKENS'
  | 'OPENAI_BASE_URL'
  | 'OPENAI_API_KEY'
>;

/**
 * The embedder the configuration names: a local ONNX model (the default), the hash embedder,
 * or an OpenAI-compatible API. The ONNX model's thread starts on its first call.
 */
export function createEmbedder(config: EmbedderConfig): Embedder {
  switch (config.EMBEDDING_PROVIDER) {
    case 'onnx': {
      const spec = ONNX_MODELS[config.EMBEDDING_MODEL];
      if (!spec) throw new ProviderConfigurationError(`${config.EMBEDDING_MODEL} is not a local ONNX model`);
      return new OnnxEmbedder({
        spec,
        modelsDir: config.EMBEDDING_MODEL_DIR,
        threads: config.EMBEDDING_THREADS,
        batchTokens: config.EMBEDDING_BATCH_TOKENS,
      });
    }
    case 'hash':
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
