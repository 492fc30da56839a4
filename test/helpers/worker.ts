// A worker inside the test process, on the run's Temporal and PostgreSQL, with the workflow
// bundle built once for the run. Each test file gives it a task queue of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NativeConnection, type ActivityInterceptorsFactory, type Worker } from '@temporalio/worker';
import pino from 'pino';
import type { DatabasePool } from 'slonik';
import type { Config } from '../../config.ts';
import { createTemporalClient, type TemporalHandle } from '../../workflow-client/connection.ts';
import type { WorkerDeps } from '../../worker.ts';
import { createDatabasePool } from '../../db/pool.ts';
import { testConfig, workflowBundlePath } from './stack.ts';

export interface TestWorker {
  readonly worker: Worker;
  readonly config: Config;
  readonly pool: DatabasePool;
  readonly temporal: TemporalHandle;
  /** Resolves when the worker has stopped. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export async function startTestWorker(
  create: (deps: WorkerDeps) => Promise<Worker>,
  options: {
    settings?: Record<string, string>;
    taskQueue?: string;
    testInterceptors?: readonly ActivityInterceptorsFactory[];
  } = {},
): Promise<TestWorker> {
  const config = testConfig(options.settings);
  // The settings' DATABASE_URL, which a test may point through a proxy it can cut.
  const pool = await createDatabasePool(config.DATABASE_URL as string, { maxPoolSize: 4 });
  const temporal = await createTemporalClient(config);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS as string });
  const worker = await create({
    config,
    pool,
    temporal,
    connection,
    logger: pino({ level: 'silent' }),
    workflowBundlePath: workflowBundlePath(),
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
    ...(options.testInterceptors ? { testInterceptors: options.testInterceptors } : {}),
  });
  const done = worker.run();
  return {
    worker,
    config,
    pool,
    temporal,
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
      await Promise.all([connection.close(), temporal.close(), pool.end()]);
    },
  };
}

/**
 * An ingestion worker in a process of its own (test/documents/worker-process.ts), its settings
 * from the environment as in production, for tests that kill it with SIGKILL. Resolves once it polls.
 */
export async function spawnWorkerProcess(settings: Record<string, string>): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('../documents/worker-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import=tsx', script], {
    env: { ...process.env, ...settings },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: child.stdout })) if (line === 'ready') return child;
  throw new Error('the worker process ended before it was ready');
}
