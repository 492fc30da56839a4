// An ingestion worker in a process of its own, for the tests that kill one mid-ingestion with
// SIGKILL (no shutdown, no goodbye). Its settings come from the environment, as in production;
// QUARRY_TEST_HOLD holds it inside an activity (hold.ts). It prints "ready" once it polls.
import { startIngestionWorker } from './harness.ts';
import { holdFromEnv, holdInterceptor } from './hold.ts';

const hold = holdFromEnv(process.env);
const running = await startIngestionWorker({}, hold ? [holdInterceptor(hold)] : []);
process.stdout.write('ready\n');
await running.done;
