// Holds a worker inside a chosen activity, for tests that kill it there: at the first attempt of
// the activity, before or after its body (and its job events, which run inside), the activity
// writes `<dir>/<activity>.held` with the time and waits until `<dir>/<activity>.release` exists
// (or its process is killed). Installed through WorkerDeps.testInterceptors, so the heartbeats,
// which run outside it, keep the held attempt alive.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

export interface Hold {
  readonly activity: string;
  readonly when: 'before' | 'after';
  readonly dir: string;
}

/** The worker-process settings that hold it (see worker-process.ts). */
export function holdSettings(hold: Hold): Record<string, string> {
  return { QUARRY_TEST_HOLD: `${hold.activity}:${hold.when}`, QUARRY_TEST_HOLD_DIR: hold.dir };
}

/** The hold the worker-process settings name, if any. */
export function holdFromEnv(env: NodeJS.ProcessEnv): Hold | null {
  const [activity, when] = env.QUARRY_TEST_HOLD?.split(':') ?? [];
  if (!activity || (when !== 'before' && when !== 'after') || !env.QUARRY_TEST_HOLD_DIR) return null;
  return { activity, when, dir: env.QUARRY_TEST_HOLD_DIR };
}

export function holdInterceptor(hold: Hold): ActivityInterceptorsFactory {
  const wait = async () => {
    await writeFile(path.join(hold.dir, `${hold.activity}.held`), String(Date.now()));
    while (!existsSync(path.join(hold.dir, `${hold.activity}.release`))) await sleep(50);
  };
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        if (ctx.info.activityType !== hold.activity || ctx.info.attempt !== 1) return next(input);
        if (hold.when === 'before') await wait();
        const result = await next(input);
        if (hold.when === 'after') await wait();
        return result;
      },
    },
  });
}

/** Waits until the worker holds at the activity; answers when it got there (epoch ms). */
export async function held(hold: Hold, timeoutMs = 60_000): Promise<number> {
  const file = path.join(hold.dir, `${hold.activity}.held`);
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text) return Number(text);
  }
  throw new Error(`the worker never reached ${hold.activity}`);
}

export async function release(hold: Hold): Promise<void> {
  await writeFile(path.join(hold.dir, `${hold.activity}.release`), '');
}
