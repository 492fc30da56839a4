// Bundles the workflows once (webpack and swc, about 1.5 s) into a file that workers load with
// `workflowBundle: { codePath }`, for runs that start many workers: the tests and the benchmarks.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

export async function bundleWorkflows(dir: string): Promise<string> {
  const require = createRequire(import.meta.url);
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows/index.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  return bundlePath;
}
