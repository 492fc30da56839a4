// An ingestion worker in a process of its own, for the test that kills one mid-ingestion with
// SIGKILL (no shutdown, no goodbye). Its settings come from the environment, as in production;
// it prints "ready" once it polls.
import { startIngestionWorker } from './harness.ts';

const running = await startIngestionWorker({});
process.stdout.write('ready\n');
await running.done;
