// `npm run install:model`: installs the offline embedding model into .local/models (see
// scripts/lib/embedding-model.ts), for an API or worker run without `npm run stack` or `dev`.
import { loadConfig } from '../config.ts';
import { ensureEmbeddingModel } from './lib/embedding-model.ts';

const config = loadConfig();
console.log(ensureEmbeddingModel(config.QUARRY_LOCAL_DIR));
