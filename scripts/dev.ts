// `npm run dev`: provisions and starts the local stack (PostgreSQL with pgvector and the
// Temporal dev server with its Web UI), runs migrations, seeds a demo tenant with an API
// key, then runs the worker and the API in this process until interrupted.
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { startApiServer } from '../api/server.ts';
import { startWorker } from '../worker.ts';
import { seedDemo } from './lib/seed.ts';
import { startStack } from './lib/stack.ts';

const base = loadConfig();
const logger = pino({ level: base.LOG_LEVEL, name: 'quarry' });
const stack = await startStack({
  dir: base.QUARRY_LOCAL_DIR,
  localDir: base.QUARRY_LOCAL_DIR,
  pgPort: base.QUARRY_PG_PORT,
  temporalPort: base.TEMPORAL_PORT,
  temporalUiPort: base.TEMPORAL_UI_PORT,
  persistTemporal: true,
  config: base,
});
const config = loadConfig({ ...process.env, ...stack.env });

const worker = await startWorker(config, logger.child({ component: 'worker' }));
const api = await startApiServer(config, logger.child({ component: 'api' }));
const demo = await seedDemo(config, api.url);

const temporalUi = stack.temporalUiUrl ?? `(external Temporal at ${config.TEMPORAL_ADDRESS})`;
console.log(`
Quarry is up.
  API               ${api.url}   (OpenAPI: ${api.url}/openapi.json)
  Temporal Web UI   ${temporalUi}
  Demo tenant       ${demo.tenantName} (${demo.tenantId})
  Demo login        ${demo.email} / ${demo.password}
  Demo API key      ${demo.apiKey}

Try:  curl -H 'Authorization: Bearer ${demo.apiKey}' ${api.url}/v1/jobs
Press Ctrl-C to stop.
`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  await api.close();
  await worker.shutdown();
  await stack.stop();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
