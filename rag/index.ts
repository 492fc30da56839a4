// The pure RAG domain layer: extraction, chunking, embedding, retrieval helpers and answering.
// No Temporal, no Koa, no database: activities and the API inject what they need from here.
export * from './errors.ts';
export { extractText, detectFormat, type ExtractInput } from './extract/index.ts';
export * from './extract/document.ts';
export { chunkDocument, type Chunk, type ChunkOptions } from './chunk.ts';
export { l2Normalise, type EmbedOptions, type Embedder } from './embed/embedder.ts';
export { LocalHashEmbedder, LOCAL_HASH_MODEL } from './embed/local-hash.ts';
export { OpenAIEmbedder, type OpenAIEmbedderOptions } from './embed/openai.ts';
export { estimateTokens, OPENAI_EMBEDDING_LIMITS, type EmbeddingLimits } from './embed/batching.ts';
export { createEmbedder, type EmbedderConfig } from './embed/factory.ts';
export { createOpenAIClient, type OpenAIClientOptions } from './provider/openai-client.ts';
export {
  reciprocalRankFusion,
  type FusedResult,
  type FusionOptions,
  type LegRank,
  type RankedItem,
} from './retrieve/rrf.ts';
export { fromPgVector, toPgVector } from '../db/vector.ts';
export * from './answer/answerer.ts';
export { parseCitations } from './answer/citations.ts';
export { describeLocation } from './answer/prompt.ts';
export { ExtractiveAnswerer, EXTRACTIVE_MODEL, type ExtractiveAnswererOptions } from './answer/extractive.ts';
export { OpenAIChatAnswerer, type OpenAIChatAnswererOptions } from './answer/openai-chat.ts';
export { createAnswerer, type AnswererConfig } from './answer/factory.ts';
