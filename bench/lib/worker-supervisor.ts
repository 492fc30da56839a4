// The worker as a process of its own (`worker.ts`, as `npm run worker` runs it), under a small
// supervisor that starts it again whenever it ends, as a container's restart policy would:
// `kill()` sends SIGKILL (no shutdown, no goodbye) and the supervisor brings up a new one.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../config.ts';

export interface SupervisedWorker {
  /** Resolves once the first worker polls its task queues. */
  readonly ready: Promise<void>;
  /** How many times the worker was started (the first start included). */
  starts(): number;
  /** Resolves once the `start`-th worker (1 for the first) polls its task queues. */
  running(start: number): Promise<void>;
  /** SIGKILLs the running worker; the supervisor starts another after `restartDelayMs`. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export function superviseWorker(options: {
  readonly env: Record<string, string>;
  readonly logFile: string;
  /** A restart policy's pause before the next start. */
  readonly restartDelayMs: number;
}): SupervisedWorker {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  let child: ChildProcess | null = null;
  let stopping = false;
  let count = 0;
  // One promise per start, resolved when that worker logs that it runs.
  const readiness: { promise: Promise<void>; resolve: () => void }[] = [];
  const readinessOf = (start: number) => {
    while (readiness.length < start) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((done) => (resolve = done));
      readiness.push({ promise, resolve });
    }
    return readiness[start - 1]!;
  };

  const start = () => {
    const ready = readinessOf(++count);
    const worker = spawn(process.execPath, ['--import=tsx', path.join(projectRoot, 'worker.ts')], {
      cwd: projectRoot,
      env: { ...process.env, ...options.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = worker;
    worker.stderr.pipe(log, { end: false });
    void (async () => {
      for await (const line of createInterface({ input: worker.stdout })) {
        log.write(`${line}\n`);
        if (line.includes('"worker running"')) ready.resolve();
      }
    })();
    worker.once('exit', (code, signal) => {
      log.write(`supervisor: worker ${worker.pid} exited (${code ?? signal})\n`);
      if (!stopping) setTimeout(() => stopping || start(), options.restartDelayMs);
    });
  };
  start();

  return {
    ready: readinessOf(1).promise,
    starts: () => count,
    running: (start) => readinessOf(start).promise,
    async kill() {
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = once(current, 'exit');
      current.kill('SIGKILL');
      await exited;
    },
    async stop() {
      stopping = true;
      const current = child;
      if (current && current.exitCode === null && current.signalCode === null) {
        const exited = once(current, 'exit');
        current.kill('SIGTERM');
        const forced = setTimeout(() => current.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(forced);
      }
      log.end();
    },
  };
}
