// `npm test`: starts one PostgreSQL (with pgvector) and one Temporal dev server for the
// whole run, migrates, bundles the workflows once, then runs ava with the stack's
// addresses in the environment. Extra arguments go to ava (`npm test -- test/x.test.ts`).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config.ts';
import { bundleWorkflows } from './lib/bundle.ts';
import { startRunStack } from './lib/stack.ts';

const started = Date.now();
const localDir = path.join(projectRoot, '.local');
const runDir = path.join(localDir, 'test-runs', `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
mkdirSync(runDir, { recursive: true });

// The test run always brings its own services, whatever the shell's environment says.
const stack = await startRunStack(runDir, localDir);

let code = 1;
try {
  const bundlePath = await bundleWorkflows(runDir);
  console.error(`quarry: test stack ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  const ava = path.join(projectRoot, 'node_modules', 'ava', 'entrypoints', 'cli.js');
  const child = spawn(process.execPath, [ava, ...process.argv.slice(2)], {
    stdio: 'inherit',
    cwd: projectRoot,
    env: {
      ...process.env,
      ...stack.env,
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      JWT_SECRET: randomBytes(32).toString('base64url'),
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      QUARRY_TEST_RUN_DIR: runDir,
      // Never the developer's own blobs: a test's maintenance sweep would otherwise reach them.
      BLOB_DIR: path.join(runDir, 'blobs'),
      QUARRY_WORKFLOW_BUNDLE: bundlePath,
      // The hash embedder keeps tests fast; a test that needs the neural model asks for it
      // (EMBEDDING_PROVIDER=onnx), and the stack above installed it.
      EMBEDDING_PROVIDER: 'hash',
      EMBEDDING_MODEL: 'quarry-hash-384',
    },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  code = await new Promise<number>((resolve) => child.once('exit', (exitCode) => resolve(exitCode ?? 1)));
} finally {
  await stack.stop();
  if (code === 0) rmSync(runDir, { recursive: true, force: true });
  else console.error(`quarry: logs of the failed run kept in ${runDir}`);
  console.error(`quarry: test run took ${((Date.now() - started) / 1000).toFixed(1)}s`);
}
process.exit(code);
