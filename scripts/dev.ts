// `npm run dev`: provisions and starts the local stack (PostgreSQL with pgvector and the
// Temporal dev server with its Web UI), runs migrations, seeds a demo tenant with an API
// key, then runs the worker and the API in this process until interrupted.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { startApiServer } from '../api/server.ts';
import { startWorker } from '../worker.ts';
import { seedDemo } from './lib/seed.ts';
import { startStack } from './lib/stack.ts';

const startedAt = performance.now();
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
// A development JWT secret kept in .local/, so that tokens survive a restart of `npm run dev`.
const secretFile = path.join(base.QUARRY_LOCAL_DIR, 'jwt-secret');
if (!base.JWT_SECRET && !existsSync(secretFile)) {
  writeFileSync(secretFile, randomBytes(32).toString('base64url'), { mode: 0o600 });
}
const jwtSecret = base.JWT_SECRET ?? readFileSync(secretFile, 'utf8').trim();
const config = loadConfig({ ...process.env, ...stack.env, JWT_SECRET: jwtSecret });

const worker = await startWorker(config, logger.child({ component: 'worker' }));
const api = await startApiServer(config, logger.child({ component: 'api' }));
const demo = await seedDemo(config, api.url);

const temporalUi = stack.temporalUiUrl ?? `(external Temporal at ${config.TEMPORAL_ADDRESS})`;
console.log(`
Quarry is up (in ${((performance.now() - startedAt) / 1000).toFixed(1)}s).
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
  try {
    await api.close();
    await worker.shutdown();
  } finally {
    await stack.stop();
  }
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
