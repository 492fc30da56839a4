// `npm run stack`: provision and start PostgreSQL and Temporal, run migrations, then keep
// them running until interrupted. `npm run dev` does this and also starts the API and worker.
import { loadConfig } from '../config.ts';
import { startStack } from './lib/stack.ts';

const config = loadConfig();
const stack = await startStack({
  dir: config.QUARRY_LOCAL_DIR,
  localDir: config.QUARRY_LOCAL_DIR,
  pgPort: config.QUARRY_PG_PORT,
  temporalPort: config.TEMPORAL_PORT,
  temporalUiPort: config.TEMPORAL_UI_PORT,
  persistTemporal: true,
  config,
});
console.log(JSON.stringify({ ...stack.env, TEMPORAL_UI: stack.temporalUiUrl }, null, 2));
const shutdown = async () => {
  await stack.stop();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
