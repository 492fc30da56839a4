// The launchers' supervisor (`npm run stack`, `npm run dev`): every process they start is
// watched. An app process (API, worker) that exits on its own is restarted after a backoff, a
// bounded number of times; the stack's services (PostgreSQL, Temporal) are not restarted
// under the processes using them. When a child cannot be kept, or the launcher is told to stop
// (Ctrl-C, SIGTERM), everything it started is stopped, children first, then the stack, and
// the launcher exits: 0 when asked to stop, 1 when a child died, with a line naming the child,
// how it ended and where its log is.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

/** How a process ended, in words: `exit code 1`, `signal SIGKILL`. */
export function howItEnded(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

/** Whether a process exists (one of another user, such as PostgreSQL's as nobody, counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RestartPolicy {
  /** Restarts in a row before the launcher gives up and stops everything. */
  readonly maxRestarts: number;
  /** Wait before the n-th restart in a row: firstBackoffMs · 2^(n-1), at most maxBackoffMs. */
  readonly firstBackoffMs: number;
  readonly maxBackoffMs: number;
  /** A child that ran this long has its count of restarts in a row reset. */
  readonly stableAfterMs: number;
}

export const APP_RESTARTS: RestartPolicy = {
  maxRestarts: 5,
  firstBackoffMs: 1_000,
  maxBackoffMs: 16_000,
  stableAfterMs: 60_000,
};

export interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly options: SpawnOptions;
  /** Where its output goes, for the message when it dies ("its output above" when inherited). */
  readonly logFile?: string;
}

const STOP_GRACE_MS = 10_000;

export class Supervisor {
  private stopping = false;
  private readonly children = new Map<string, ChildProcess>();
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly log: (line: string) => void = (line) => console.error(line)) {
    // `on`, not `once`: Ctrl-C under `npm run` arrives more than once (from the terminal to the
    // whole group, and relayed by npm and tsx), and a repeat must not kill the launcher mid-stop.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => void this.stop(0, `quarry: ${signal} received, stopping`));
    }
    process.once('uncaughtException', (error) => void this.stop(1, `quarry: launcher failed: ${error.stack ?? error}`));
    process.once('unhandledRejection', (error) => void this.stop(1, `quarry: launcher failed: ${String(error)}`));
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Runs at stop, last registered first (the stack is registered before its users). */
  onStop(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  /** A service of the stack stopped on its own (Stack.watch): everything stops, with exit code 1. */
  serviceDied(death: { readonly name: string; readonly how: string; readonly logFile: string }): void {
    if (this.stopping) return;
    void this.stop(
      1,
      `quarry: ${death.name} exited unexpectedly (${death.how}); see ${death.logFile}. Stopping everything.`,
    );
  }

  /** Starts a child and keeps it running under `policy`: restarted with backoff when it exits. */
  keep(spec: ChildSpec, policy: RestartPolicy = APP_RESTARTS): ChildProcess {
    let restartsInARow = 0;
    const start = (): ChildProcess => {
      // A process group of its own, so that Ctrl-C (sent to the terminal's group) reaches only
      // the launcher, which then stops its children in order instead of racing their exits.
      const child = spawn(spec.command, [...spec.args], { ...spec.options, detached: true });
      const startedAt = Date.now();
      this.children.set(spec.name, child);
      this.log(`quarry: ${spec.name} started (pid ${child.pid})`);
      child.once('exit', (code, signal) => {
        if (this.stopping) return;
        const how = howItEnded(code, signal);
        const where = spec.logFile ? `see ${spec.logFile}` : 'its output is above';
        if (Date.now() - startedAt >= policy.stableAfterMs) restartsInARow = 0;
        if (restartsInARow >= policy.maxRestarts) {
          void this.stop(
            1,
            `quarry: ${spec.name} exited unexpectedly (${how}) after ${restartsInARow} restarts in a row; ${where}. Stopping everything.`,
          );
          return;
        }
        restartsInARow += 1;
        const delay = Math.min(policy.firstBackoffMs * 2 ** (restartsInARow - 1), policy.maxBackoffMs);
        this.log(
          `quarry: ${spec.name} exited unexpectedly (${how}); ${where}. Restarting it in ${delay / 1000}s ` +
            `(restart ${restartsInARow} of ${policy.maxRestarts}).`,
        );
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!this.stopping) start();
        }, delay);
        this.timers.add(timer);
      });
      return child;
    };
    return start();
  }

  /** Stops the children (SIGTERM, then SIGKILL after a grace), runs the cleanups, and exits. */
  async stop(code: number, message?: string): Promise<never> {
    if (this.stopping) return new Promise<never>(() => undefined);
    this.stopping = true;
    if (message) this.log(message);
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.all([...this.children.values()].map((child) => terminate(child)));
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        this.log(`quarry: while stopping: ${String(error)}`);
        code = code || 1;
      }
    }
    process.exit(code);
  }
}

/** SIGTERM, then SIGKILL if it has not exited after the grace. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await gone;
  clearTimeout(timer);
}
