// The worker's composition root: config, database pool, Temporal connections, activities
// and task queues. `npm run worker` runs it; `npm run dev` starts it beside the API.
import { createRequire } from 'node:module';
import { NativeConnection, Worker, type ActivityInterceptorsFactory, type WorkerOptions } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import { createActivities } from './activities/index.ts';
import { failureInterceptor } from './activities/failures.ts';
import { heartbeatInterceptor } from './activities/heartbeat.ts';
import { jobEventsInterceptor } from './activities/jobs/interceptor.ts';
import { priorFailureFromTemporal } from './activities/jobs/late-attempts.ts';
import { createJobRecorder } from './activities/jobs/recorder.ts';
import { loadConfig, temporalAddressOf, type Config } from './config.ts';
import { createDatabasePool } from './db/pool.ts';
import { isEntryPoint } from './entry-point.ts';
import type { Embedder } from './rag/embed/embedder.ts';
import { createEmbedder } from './rag/embed/factory.ts';
import { LocalBlobStore } from './storage/local-blob-store.ts';
import { createTemporalClient, type TemporalHandle } from './workflow-client/connection.ts';
import { ensureMaintenanceSchedule } from './workflow-client/maintenance.ts';

export interface WorkerDeps {
  readonly config: Config;
  readonly pool: DatabasePool;
  readonly temporal: TemporalHandle;
  readonly connection: NativeConnection;
  readonly logger: Logger;
  /** A prebuilt workflow bundle (tests build one per run); otherwise workflows/ is bundled. */
  readonly workflowBundlePath?: string;
  /** Overrides the worker's task queue (tests use a queue of their own). */
  readonly taskQueue?: string;
  /**
   * Tests only: activity interceptors placed just inside the heartbeat, outside the job events
   * (a test holds a worker inside a chosen step with one). Production passes none.
   */
  readonly testInterceptors?: readonly ActivityInterceptorsFactory[];
  /**
   * The embedder the activities use; startWorker makes one for both workers of the process (a
   * local model is loaded once). Without it, each worker makes its own from the configuration.
   */
  readonly embedder?: Embedder;
}

function pollerBehavior(
  setting: Config['WORKER_WORKFLOW_TASK_POLLERS'],
): NonNullable<WorkerOptions['workflowTaskPollerBehavior']> {
  return setting === 'autoscaling' ? { type: 'autoscaling' } : { type: 'simple-maximum', maximum: setting };
}

/**
 * How many workflow tasks and activities a worker runs at once, and how it polls for them. With
 * a fixed number of workflow-task polls only a fifth of them ask for new runs (the rest wait on
 * the worker's sticky queue), so a burst of uploads queued up behind two polls; autoscaling
 * pollers grow with the backlog the server reports (see `npm run bench:burst`).
 */
export function workerSizing(
  config: Pick<
    Config,
    | 'WORKER_WORKFLOW_TASK_SLOTS'
    | 'WORKER_ACTIVITY_TASK_SLOTS'
    | 'WORKER_WORKFLOW_TASK_POLLERS'
    | 'WORKER_ACTIVITY_TASK_POLLERS'
  >,
) {
  return {
    maxConcurrentWorkflowTaskExecutions: config.WORKER_WORKFLOW_TASK_SLOTS,
    maxConcurrentActivityTaskExecutions: config.WORKER_ACTIVITY_TASK_SLOTS,
    workflowTaskPollerBehavior: pollerBehavior(config.WORKER_WORKFLOW_TASK_POLLERS),
    activityTaskPollerBehavior: pollerBehavior(config.WORKER_ACTIVITY_TASK_POLLERS),
  } satisfies Partial<WorkerOptions>;
}

/**
 * Every worker hosts every workflow and activity; its task queue decides which jobs it takes.
 * Activities get their dependencies here: the pool, the Temporal client, the blob store and
 * the embedder the configuration names.
 */
function workerOptions(deps: WorkerDeps, taskQueue: string): WorkerOptions {
  const recorder = createJobRecorder(deps.pool);
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = deps.workflowBundlePath
    ? { workflowBundle: { codePath: deps.workflowBundlePath } }
    : { workflowsPath: createRequire(import.meta.url).resolve('./workflows/index.ts') };
  return {
    connection: deps.connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueue,
    ...workflows,
    ...workerSizing(deps.config),
    activities: createActivities({
      config: deps.config,
      pool: deps.pool,
      temporal: deps.temporal.client,
      blobs: new LocalBlobStore(deps.config.BLOB_DIR),
      embedder: deps.embedder ?? createEmbedder(deps.config),
    }),
    interceptors: {
      // Outermost first. Heartbeats cover the whole attempt, job-event writes included; job
      // events see the failure as Temporal will (permanent or not).
      activity: [
        heartbeatInterceptor(),
        ...(deps.testInterceptors ?? []),
        jobEventsInterceptor(
          recorder,
          (error) => deps.logger.warn({ err: error }, 'could not record a job event'),
          priorFailureFromTemporal(deps.temporal.client),
        ),
        failureInterceptor(),
      ],
    },
    // Heartbeats reach the server at least this often (the SDK's default is 80% of the heartbeat
    // timeout), so a live attempt never comes close to its timeout.
    maxHeartbeatThrottleInterval: '3 seconds',
  };
}

export async function createPlatformWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create(workerOptions(deps, deps.taskQueue ?? deps.config.PLATFORM_TASK_QUEUE));
}

/** The worker of document jobs (ingestion, deletion), on a queue of their own (see TASK_QUEUES). */
export async function createIngestionWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create(workerOptions(deps, deps.taskQueue ?? deps.config.INGESTION_TASK_QUEUE));
}

export interface RunningWorker {
  /** Resolves when the worker has stopped. */
  readonly done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: config.DATABASE_POOL_SIZE });
  const address = temporalAddressOf(config);
  const connection = await NativeConnection.connect({ address });
  const temporal = await createTemporalClient(config);

  const schedule = await ensureMaintenanceSchedule(temporal.client, {
    intervalMinutes: config.MAINTENANCE_INTERVAL_MINUTES,
    taskQueue: config.PLATFORM_TASK_QUEUE,
  });
  logger.info({ schedule }, 'maintenance schedule checked');

  // A local model is loaded (and its files verified) before the worker takes any task.
  const embedder = createEmbedder(config);
  await embedder.warmUp?.();
  logger.info({ model: embedder.model, provider: config.EMBEDDING_PROVIDER }, 'embedder ready');

  const deps = { config, pool, temporal, connection, logger, embedder };
  const workers = [await createPlatformWorker(deps), await createIngestionWorker(deps)];
  // The SDK also shuts the workers down on SIGINT/SIGTERM by itself.
  const stop = () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  // One worker failing stops the other, so the process ends and its supervisor restarts it.
  const runs = workers.map((worker) =>
    worker.run().catch((error: unknown) => {
      stop();
      throw error;
    }),
  );
  const done = Promise.all(runs)
    .then(() => undefined)
    .finally(async () => {
      await embedder.close?.();
      await temporal.close();
      await connection.close();
      await pool.end();
    });
  logger.info({ taskQueues: workers.map((worker) => worker.options.taskQueue), address }, 'worker running');
  return {
    done,
    async shutdown() {
      stop();
      await done;
    },
  };
}

if (isEntryPoint(import.meta)) {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, name: 'quarry-worker' });
  const running = await startWorker(config, logger);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void running.shutdown());
  await running.done;
}
