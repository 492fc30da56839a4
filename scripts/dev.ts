// `npm run dev`: provisions and starts the local stack (PostgreSQL with pgvector and the
// Temporal dev server with its Web UI), runs migrations, starts the worker and the API as
// processes of their own (as `npm run worker` and `npm run api` do), seeds a demo tenant with an
// API key, and keeps it all running until interrupted. A worker or API that dies is restarted
// with backoff, a few times in a row at most; PostgreSQL or Temporal dying stops everything with
// exit code 1 (scripts/lib/supervisor.ts). With `--demo-mail` it also serves the Google stand-in
// with a sample mailbox and points the API and worker at it (scripts/lib/demo-mail.ts), and
// prints how to connect it.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, projectRoot } from '../config.ts';
import { demoMailInstructions, startDemoMail } from './lib/demo-mail.ts';
import { seedDemo } from './lib/seed.ts';
import { freePort, startStack } from './lib/stack.ts';
import { Supervisor, type ChildSpec } from './lib/supervisor.ts';

const API_READY_TIMEOUT_MS = 60_000;

const { values: flags } = parseArgs({ options: { 'demo-mail': { type: 'boolean', default: false } } });
const startedAt = performance.now();
const base = loadConfig();
const supervisor = new Supervisor();
const stack = await startStack({
  dir: base.QUARRY_LOCAL_DIR,
  localDir: base.QUARRY_LOCAL_DIR,
  pgPort: base.QUARRY_PG_PORT,
  temporalPort: base.TEMPORAL_PORT,
  temporalUiPort: base.TEMPORAL_UI_PORT,
  persistTemporal: true,
  config: base,
});
supervisor.onStop(() => stack.stop());
stack.watch((death) => supervisor.serviceDied(death));

// A development JWT secret kept in .local/, so that tokens survive a restart of `npm run dev`.
const secretFile = path.join(base.QUARRY_LOCAL_DIR, 'jwt-secret');
if (!base.JWT_SECRET && !existsSync(secretFile)) {
  writeFileSync(secretFile, randomBytes(32).toString('base64url'), { mode: 0o600 });
}
const jwtSecret = base.JWT_SECRET ?? readFileSync(secretFile, 'utf8').trim();
// Likewise the key that seals mail OAuth tokens, so that connected mailboxes survive a restart.
const tokenKeyFile = path.join(base.QUARRY_LOCAL_DIR, 'token-encryption-key');
if (!base.TOKEN_ENCRYPTION_KEY && !existsSync(tokenKeyFile)) {
  writeFileSync(tokenKeyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
}
const tokenKey = base.TOKEN_ENCRYPTION_KEY ?? readFileSync(tokenKeyFile, 'utf8').trim();
const apiPort = base.API_PORT || (await freePort());
const apiUrl = `http://${base.API_HOST}:${apiPort}`;
const demoMail = flags['demo-mail'] ? await startDemoMail(apiUrl) : null;
if (demoMail) supervisor.onStop(() => demoMail.stop());
const env = {
  ...process.env,
  ...stack.env,
  JWT_SECRET: jwtSecret,
  TOKEN_ENCRYPTION_KEY: tokenKey,
  API_PORT: String(apiPort),
  ...demoMail?.settings,
};
const config = loadConfig(env);

/** A TypeScript entry point of the project, run as a child with the stack's settings. */
function app(name: string, file: string): ChildSpec {
  return {
    name,
    command: process.execPath,
    args: ['--import=tsx', path.join(projectRoot, file)],
    options: { cwd: projectRoot, env, stdio: ['ignore', 'inherit', 'inherit'] },
  };
}
console.error(
  `quarry: stack running (PostgreSQL pid ${stack.pids.postgres ?? 'external'}, Temporal pid ${stack.pids.temporal ?? 'external'})`,
);
supervisor.keep(app('worker', 'worker.ts'));
supervisor.keep(app('api', 'api/server.ts'));

const deadline = Date.now() + API_READY_TIMEOUT_MS;
while (
  !(await fetch(`${apiUrl}/healthz`).then(
    (response) => response.ok,
    () => false,
  ))
) {
  if (Date.now() > deadline) await supervisor.stop(1, `quarry: the API did not answer on ${apiUrl} within a minute`);
  await new Promise((resolve) => setTimeout(resolve, 200));
}
const demo = await seedDemo(config, apiUrl);

const temporalUi = stack.temporalUiUrl ?? `(external Temporal at ${config.TEMPORAL_ADDRESS})`;
console.log(`
Quarry is up (in ${((performance.now() - startedAt) / 1000).toFixed(1)}s).
  API               ${apiUrl}   (OpenAPI: ${apiUrl}/openapi.json)
  Temporal Web UI   ${temporalUi}
  Demo tenant       ${demo.tenantName} (${demo.tenantId})
  Demo login        ${demo.email} / ${demo.password}
  Demo API key      ${demo.apiKey}

Try:  curl -H 'Authorization: Bearer ${demo.apiKey}' ${apiUrl}/v1/jobs
${demoMail ? demoMailInstructions(demoMail, demo, apiUrl) : ''}
Press Ctrl-C to stop.
`);
