// The worker's sizing settings: what the defaults give the SDK, what an operator may set, and
// what is refused before a worker starts.
import test from 'ava';
import { ConfigurationError, loadConfig } from '../config.ts';
import { workerSizing } from '../worker.ts';

test('by default a worker autoscales its pollers, with the SDK’s task slots', (t) => {
  t.deepEqual(workerSizing(loadConfig({})), {
    maxConcurrentWorkflowTaskExecutions: 40,
    maxConcurrentActivityTaskExecutions: 100,
    workflowTaskPollerBehavior: { type: 'autoscaling' },
    activityTaskPollerBehavior: { type: 'autoscaling' },
  });
});

test('a fixed poller count and slot counts come from the environment', (t) => {
  const config = loadConfig({
    WORKER_WORKFLOW_TASK_SLOTS: '20',
    WORKER_ACTIVITY_TASK_SLOTS: '8',
    WORKER_WORKFLOW_TASK_POLLERS: '10',
    WORKER_ACTIVITY_TASK_POLLERS: '4',
  });
  t.deepEqual(workerSizing(config), {
    maxConcurrentWorkflowTaskExecutions: 20,
    maxConcurrentActivityTaskExecutions: 8,
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 10 },
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 4 },
  });
});

test('refuses a poller count below 2, a word other than autoscaling, and a single workflow slot', (t) => {
  for (const [key, value] of [
    ['WORKER_WORKFLOW_TASK_POLLERS', '1'],
    ['WORKER_ACTIVITY_TASK_POLLERS', 'auto'],
    ['WORKER_WORKFLOW_TASK_SLOTS', '1'],
  ] as const) {
    const error = t.throws(() => loadConfig({ [key]: value }), { instanceOf: ConfigurationError });
    t.true(
      error.issues.some((issue) => issue.startsWith(`${key}:`)),
      error.message,
    );
  }
});
