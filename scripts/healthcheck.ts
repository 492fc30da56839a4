// Container health checks, run by docker-compose.yml inside the api and worker containers.
//   healthcheck.ts api     the API answers GET /healthz on its port
//   healthcheck.ts worker  Temporal sees a worker of this container (identity <pid>@<hostname>)
//                          polling the platform task queue
// Exit code 0 when healthy, 1 when not, with one line saying why.
import os from 'node:os';
import { Connection } from '@temporalio/client';
import { loadConfig, temporalAddressOf, type Config } from '../config.ts';

async function api(config: Config): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${config.API_PORT}/healthz`, { signal: AbortSignal.timeout(4_000) });
  if (!response.ok) throw new Error(`/healthz answered ${response.status}`);
  return '/healthz ok';
}

async function worker(config: Config): Promise<string> {
  const connection = await Connection.connect({
    address: temporalAddressOf(config),
    connectTimeout: 4_000,
  });
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: { name: config.PLATFORM_TASK_QUEUE },
    });
    const suffix = `@${os.hostname()}`;
    const mine = (pollers ?? []).filter((poller) => poller.identity?.endsWith(suffix));
    if (!mine.length) throw new Error(`no poller ${suffix} on task queue ${config.PLATFORM_TASK_QUEUE}`);
    return `polling ${config.PLATFORM_TASK_QUEUE} as ${mine.map((poller) => poller.identity).join(', ')}`;
  } finally {
    await connection.close();
  }
}

const checks = { api, worker } as const;

async function main(args: readonly string[]): Promise<number> {
  const name = args[0];
  if (name !== 'api' && name !== 'worker') {
    console.error('usage: healthcheck.ts api|worker');
    return 2;
  }
  try {
    console.log(`healthy: ${await checks[name](loadConfig())}`);
    return 0;
  } catch (error) {
    console.error(`unhealthy: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
