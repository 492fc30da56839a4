// The launchers for real: `npm run stack` and `npm run dev` (scripts/stack.ts, scripts/dev.ts),
// run with tsx on free ports and a data directory of the file's own (sharing the project's
// toolchain in .local/venv). A killed Temporal stops the stack with a line naming it and exit
// code 1; a killed worker is restarted and serves again; `dev --demo-mail` serves a mailbox that
// connects and syncs offline; and whatever ends a launcher, none of the processes it started
// (PostgreSQL's postmaster included, a daemon of pg_ctl) is left.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import test, { type ExecutionContext } from 'ava';
import { projectRoot } from '../config.ts';
import { freePort } from '../scripts/lib/stack.ts';
import { isAlive } from '../scripts/lib/supervisor.ts';

const START_TIMEOUT_MS = 90_000;

interface Launcher {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly env: Record<string, string>;
  output(): string;
  /** Waits for a line matching `pattern` to be printed; its match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A data directory of its own that reuses the project's toolchain. */
function launcherDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quarry-launcher-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as nobody when the tests run as root
  symlinkSync(path.join(projectRoot, '.local', 'venv'), path.join(dir, 'venv'));
  return dir;
}

async function launch(script: 'stack' | 'dev', dir: string, args: readonly string[] = []): Promise<Launcher> {
  const { DATABASE_URL, MIGRATION_DATABASE_URL, TEMPORAL_ADDRESS, ...inherited } = process.env;
  void [DATABASE_URL, MIGRATION_DATABASE_URL, TEMPORAL_ADDRESS];
  const env = {
    ...inherited,
    QUARRY_LOCAL_DIR: dir,
    BLOB_DIR: path.join(dir, 'blobs'),
    QUARRY_PG_PORT: String(await freePort()),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    API_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  } as Record<string, string>;
  const child = spawn(process.execPath, ['--import=tsx', path.join(projectRoot, 'scripts', `${script}.ts`), ...args], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters = new Set<() => void>();
  const append = (text: string) => {
    output += text;
    for (const wake of waiters) wake();
  };
  child.stdout.setEncoding('utf8').on('data', append);
  child.stderr.setEncoding('utf8').on('data', append);
  const exited = once(child, 'exit').then(([code, signal]) => {
    for (const wake of waiters) wake();
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return {
    child,
    dir,
    env,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = START_TIMEOUT_MS) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => finish(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
        const finish = (error?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
        };
        const check = () => {
          const match = pattern.exec(output);
          if (match) {
            finish();
            resolve(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            finish(new Error(`the launcher exited before printing ${pattern}:\n${output}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The processes whose parent is `pid` (PostgreSQL's backends and helpers under the postmaster). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // The field after the parenthesised command name: state, then the parent's pid.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Pids the stack reported, the postmaster from its pid file, and the postmaster's children. */
async function stackPids(launcher: Launcher): Promise<Record<string, number>> {
  const [, temporal] = await launcher.waitFor(/stack running \(PostgreSQL pid \d+, Temporal pid (\d+)\)/);
  const postmaster = Number(
    readFileSync(path.join(launcher.dir, 'pg', 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  const backends = childrenOf(postmaster);
  if (backends.length < 3) throw new Error(`the postmaster has ${backends.length} children`);
  return {
    postgres: postmaster,
    temporal: Number(temporal),
    ...Object.fromEntries(backends.map((pid) => [`postgres child ${pid}`, pid])),
  };
}

/** Every pid is gone, allowing a moment for the kernel to reap them. */
async function assertGone(t: ExecutionContext, pids: Record<string, number>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Object.values(pids).some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const [name, pid] of Object.entries(pids)) t.false(isAlive(pid), `${name} (pid ${pid}) is still running`);
}

/** Kills the launcher and what it left, whatever the test's outcome (a no-op when gone), and removes its directory. */
function cleanUp(t: ExecutionContext, launcher: Launcher, pids: () => number[]): void {
  t.teardown(() => {
    for (const pid of [launcher.child.pid!, ...pids()]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(launcher.dir, { recursive: true, force: true });
  });
}

test('a child that keeps dying is restarted with growing backoff, then everything stops with exit 1', async (t) => {
  // The Supervisor as the launchers use it, in a process of its own (it installs signal handlers
  // and exits), keeping a child that always fails, with a short policy.
  const script = `
    import { Supervisor } from ${JSON.stringify(path.join(projectRoot, 'scripts', 'lib', 'supervisor.ts'))};
    const supervisor = new Supervisor((line) => console.log(line));
    supervisor.onStop(() => console.log('cleanup ran'));
    supervisor.keep(
      { name: 'flaky', command: process.execPath, args: ['-e', 'process.exit(3)'], options: { stdio: 'ignore' }, logFile: '/dev/null' },
      { maxRestarts: 2, firstBackoffMs: 100, maxBackoffMs: 150, stableAfterMs: 60_000 },
    );
  `;
  const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { cwd: projectRoot });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const [code] = (await once(child, 'exit')) as [number | null];
  t.is(code, 1, output);
  const lines = output.split('\n').filter((line) => line.startsWith('quarry:') || line === 'cleanup ran');
  t.deepEqual(
    lines.filter((line) => !/started \(pid \d+\)$/.test(line)),
    [
      'quarry: flaky exited unexpectedly (exit code 3); see /dev/null. Restarting it in 0.1s (restart 1 of 2).',
      'quarry: flaky exited unexpectedly (exit code 3); see /dev/null. Restarting it in 0.15s (restart 2 of 2).',
      'quarry: flaky exited unexpectedly (exit code 3) after 2 restarts in a row; see /dev/null. Stopping everything.',
      'cleanup ran',
    ],
  );
  t.is(lines.filter((line) => /^quarry: flaky started \(pid \d+\)$/.test(line)).length, 3);
});

/** A regular expression matching `text` literally. */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const serviceDeaths = [
  // SIGTERM makes the dev server shut down cleanly, so it may report exit code 0.
  { service: 'temporal', name: 'Temporal dev server', signal: 'SIGTERM', how: /exit code \d+|signal SIGTERM/ },
  { service: 'temporal', name: 'Temporal dev server', signal: 'SIGKILL', how: /signal SIGKILL/ },
  { service: 'postgres', name: 'PostgreSQL', signal: 'SIGKILL', how: /postmaster \d+ gone/ },
] as const;

for (const { service, name, signal, how } of serviceDeaths) {
  test.serial(`stack: ${name} killed with ${signal} stops everything, names it, and exits 1`, async (t) => {
    t.timeout(START_TIMEOUT_MS + 30_000);
    const launcher = await launch('stack', launcherDir());
    let known: number[] = [];
    cleanUp(t, launcher, () => known);
    const pids = await stackPids(launcher);
    known = Object.values(pids);

    const killedAt = Date.now();
    process.kill(pids[service]!, signal);
    const { code } = await launcher.exited;
    t.log(`${service} ${signal}: the launcher exited ${code} ${Date.now() - killedAt} ms after the kill`);
    t.is(code, 1, launcher.output());
    const logFile = path.join(launcher.dir, ...(service === 'postgres' ? ['pg', 'postgres.log'] : ['temporal.log']));
    t.regex(
      launcher.output(),
      new RegExp(
        `quarry: ${literally(name)} exited unexpectedly \\((${how.source})\\); see ${literally(logFile)}\\. Stopping everything\\.`,
      ),
    );
    await assertGone(t, pids);
  });
}

test.serial('dev: a killed worker is restarted and works again; Ctrl-C then leaves no process', async (t) => {
  t.timeout(2 * START_TIMEOUT_MS + 60_000);
  const launcher = await launch('dev', launcherDir());
  const known = new Set<number>();
  cleanUp(t, launcher, () => [...known]);
  const pids = await stackPids(launcher);
  for (const pid of Object.values(pids)) known.add(pid);
  const [, firstWorker] = await launcher.waitFor(/worker started \(pid (\d+)\)/);
  const [, apiPid] = await launcher.waitFor(/api started \(pid (\d+)\)/);
  known.add(Number(firstWorker)).add(Number(apiPid));
  const [, apiUrl] = await launcher.waitFor(/API\s+(http:\/\/\S+)/);
  const [, apiKey] = await launcher.waitFor(/Demo API key\s+(qk_\S+)/);
  const workersReady = async () => (await fetch(`${apiUrl}/readyz/workers`)).status === 200;
  const pollReady = async (boundMs: number) => {
    const deadline = Date.now() + boundMs;
    while (!(await workersReady()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    return workersReady();
  };
  t.true(await pollReady(30_000), 'the first worker polls every queue');

  const killedAt = Date.now();
  process.kill(Number(firstWorker), 'SIGKILL');
  await launcher.waitFor(
    /worker exited unexpectedly \(signal SIGKILL\); its output is above\. Restarting it in 1s \(restart 1 of 5\)\./,
    10_000,
  );
  await launcher.waitFor(/worker started \(pid \d+\)[\s\S]*worker started \(pid \d+\)/, 10_000);
  const restarted = [...launcher.output().matchAll(/worker started \(pid (\d+)\)/g)].map((match) => Number(match[1]));
  t.is(restarted.length, 2);
  t.not(restarted[1], restarted[0]);
  known.add(restarted[1]!);
  t.true(isAlive(restarted[1]!));
  // The new worker's pollers appear under their own identity, so the queues are polled again at once.
  // The killed worker's pollers still count for a while (WORKER_POLL_STALE_SECONDS), so ask
  // Temporal for the new worker's own (the SDK's identity is <pid>@<host>).
  const connection = await Connection.connect({ address: `127.0.0.1:${launcher.env.TEMPORAL_PORT}` });
  t.teardown(() => connection.close());
  const identity = `${restarted[1]}@${os.hostname()}`;
  const pollsAgain = async () => {
    for (const name of ['quarry-platform', 'quarry-ingestion']) {
      for (const taskQueueType of [1, 2]) {
        const { pollers } = await connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name },
          taskQueueType,
        });
        if (!(pollers ?? []).some((poller) => poller.identity === identity)) return false;
      }
    }
    return true;
  };
  const deadline = Date.now() + 60_000;
  while (!(await pollsAgain()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  t.true(await pollsAgain(), `${identity} polls both queues for workflow and activity tasks`);
  const pollingAfterMs = Date.now() - killedAt;
  // And it does the work: a document uploaded now is ingested.
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const upload = await fetch(`${apiUrl}/v1/documents`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ title: 'After the restart', text: 'The restarted worker ingests this.' }),
  });
  t.true([201, 202].includes(upload.status), await upload.clone().text());
  const { id } = (await upload.json()) as { id: string };
  let status = '';
  for (const until = Date.now() + 60_000; status !== 'completed' && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 500));
    const reply = await fetch(`${apiUrl}/v1/documents/${id}`, { headers });
    if (reply.status === 200) status = ((await reply.json()) as { status: string }).status;
  }
  t.is(status, 'completed');
  t.log(
    `worker restarted and polling ${pollingAfterMs} ms after the kill; a document ingested ${Date.now() - killedAt} ms after it`,
  );

  // The postmaster's children now include the API's and worker's connections.
  const backends = Object.fromEntries(childrenOf(pids.postgres!).map((pid) => [`postgres child ${pid}`, pid]));
  // Ctrl-C under `npm run dev` arrives twice: from the terminal and relayed by npm or tsx.
  launcher.child.kill('SIGINT');
  await new Promise((resolve) => setTimeout(resolve, 50));
  launcher.child.kill('SIGINT');
  const { code, signal } = await launcher.exited;
  t.deepEqual({ code, signal }, { code: 0, signal: null }, launcher.output());
  t.regex(launcher.output(), /SIGINT received, stopping/);
  await assertGone(t, { ...pids, ...backends, api: Number(apiPid), worker: restarted[1]! });
});

test.serial('dev --demo-mail: the sample mailbox connects through the stand-in, syncs and is found', async (t) => {
  t.timeout(START_TIMEOUT_MS + 150_000);
  const launcher = await launch('dev', launcherDir(), ['--demo-mail']);
  const known = new Set<number>();
  cleanUp(t, launcher, () => [...known]);
  for (const pid of Object.values(await stackPids(launcher))) known.add(pid);
  for (const name of ['worker', 'api']) {
    const [, pid] = await launcher.waitFor(new RegExp(`${name} started \\(pid (\\d+)\\)`));
    known.add(Number(pid));
  }
  const [, apiUrl] = await launcher.waitFor(/API\s+(http:\/\/\S+)/);
  const [, tenantId] = await launcher.waitFor(/Demo tenant\s+Demo \(([0-9a-f-]+)\)/);
  const [, email, password] = await launcher.waitFor(/Demo login\s+(\S+) \/ (\S+)/);
  const [, address, count] = await launcher.waitFor(/Demo mailbox\s+(\S+), (\d+) sample mails/);
  // The printed steps, as a newcomer runs them (fetch follows the stand-in's redirect, as curl -L does).
  t.regex(launcher.output(), /curl -s -XPOST \S+\/v1\/mail\/accounts .*jq -r \.authorizationUrl/);
  t.regex(launcher.output(), /curl -sL "\$URL"/);
  const json = { 'content-type': 'application/json' };
  const login = await fetch(`${apiUrl}/v1/auth/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  t.is(login.status, 200);
  const { token } = (await login.json()) as { token: string };
  const headers = { ...json, authorization: `Bearer ${token}`, 'x-tenant-id': tenantId! };
  const started = await fetch(`${apiUrl}/v1/mail/accounts`, { method: 'POST', headers, body: '{}' });
  t.is(started.status, 201, await started.clone().text());
  const { authorizationUrl } = (await started.json()) as { authorizationUrl: string };
  const callback = await fetch(authorizationUrl);
  t.is(callback.status, 200, await callback.clone().text());
  t.true(callback.url.startsWith(`${apiUrl}/v1/mail/oauth/callback?`), callback.url);
  const { id } = (await callback.json()) as { id: string };

  interface MailAccount {
    status: string;
    address: string | null;
    messageCount: number;
    attachmentCount: number;
  }
  const synced = (account: MailAccount | null) => account?.status === 'idle' && account.messageCount === Number(count);
  let account: MailAccount | null = null;
  for (const deadline = Date.now() + 120_000; !synced(account) && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 500));
    const reply = await fetch(`${apiUrl}/v1/mail/accounts/${id}`, { headers });
    if (reply.status === 200) account = (await reply.json()) as MailAccount;
  }
  t.like(account, { status: 'idle', address, messageCount: Number(count) });
  t.true(account!.attachmentCount > 0, 'some sample mails carry attachments');

  const search = await fetch(`${apiUrl}/v1/search`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: 'parental leave', k: 5, mode: 'lexical', filters: { sources: ['gmail'] } }),
  });
  t.is(search.status, 200);
  const { results } = (await search.json()) as { results: { title: string }[] };
  t.true(results.length > 0, 'the demo mail is found');
  t.true(
    results.every((result) => /parental leave/i.test(result.title)),
    JSON.stringify(results.map((r) => r.title)),
  );

  launcher.child.kill('SIGINT');
  const { code } = await launcher.exited;
  t.is(code, 0, launcher.output());
});
