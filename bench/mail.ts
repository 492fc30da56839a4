// `npm run bench:mail`: Gmail sync end to end, with the API and the worker each a process of
// their own (as `npm run api` and `npm run worker` run them) on one PostgreSQL and one Temporal
// dev server, against the Google stand-in (devtools/google-stand-in/) holding a sample mailbox of
// MESSAGES generated mails (sample-mail.ts: varied sizes, about one in five with attachments, in
// txt/pdf/docx/html, which are indexed, and png/zip, which are recorded and skipped).
//   - Full sync: the mailbox connected through the OAuth flow (the API's POST /v1/mail/accounts,
//     the stand-in's consent, the API's callback, which starts the mailbox workflow), timed from
//     the callback until the account shows idle with every message; messages/s.
//   - The bare client loop (bench/lib/gmail-bare-read.ts, a process of its own): the real
//     @googleapis/gmail client reading the same mailbox from the same stand-in with the requests a
//     full sync makes (messages.list pages, messages.get format=raw) at the sync's concurrency,
//     storing nothing; and once more with messages.attachments.get for every attachment. Each is
//     run right before and right after the full sync; the sync's rate is set against their mean.
//   - Incremental sync: CHANGES changes in the stand-in (adds, deletes, label changes), then
//     POST /v1/mail/accounts/:id/sync, timed until the account shows idle again with the changes
//     applied; ROUNDS rounds.
// After each phase the stored mail is checked against the mailbox: every message once, deleted
// ones gone, labels as Gmail has them, attachments indexed or skipped as their format says.
// The hash embedder (EMBEDDING_PROVIDER=hash): the neural one would measure itself (README,
// Embeddings). `-- --messages 500` for a quick run. Results go to bench/results/mail.{json,md}.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OAuth2Client } from 'google-auth-library';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { loadConfig, projectRoot } from '../config.ts';
import { createDatabasePool } from '../db/pool.ts';
import { withTenant } from '../db/with-tenant.ts';
import type { GmailMailbox } from '../devtools/google-stand-in/gmail-mailbox.ts';
import { GoogleStandIn } from '../devtools/google-stand-in/google-server.ts';
import { fillSampleMailbox, INDEXED_KINDS, type SamplePlan } from '../devtools/google-stand-in/sample-mail.ts';
import { GMAIL_READONLY_SCOPE } from '../mail/google.ts';
import { startApiProcess } from '../test/helpers/api-process.ts';
import { call } from '../test/api/harness.ts';
import { startBenchStack } from './lib/bench-stack.ts';
import type { BareReadInput, BareReadResult } from './lib/gmail-bare-read.ts';
import { machine, ratio, seconds, writeResults } from './lib/results.ts';
import { median } from './lib/stats.ts';
import { createBenchTenant, signUpOwner, type Tenant } from './lib/uploads.ts';
import { superviseWorker } from './lib/worker-supervisor.ts';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    changes: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
  },
});
const MESSAGES = Number(args.messages);
const CHANGES = Number(args.changes);
const ROUNDS = Number(args.rounds);
const SEED = Number(args.seed);
const SYNC_TIMEOUT_MS = 60 * 60_000;
// The stand-in follows no redirect: the bench takes Google's redirect to the API's callback itself.
const REDIRECT_URI = 'https://quarry.bench/v1/mail/oauth/callback';
const EMAIL = 'bench@gmail.test';

interface Check {
  readonly what: string;
  readonly expected: number | string;
  readonly actual: number | string;
  readonly ok: boolean;
}

const check = (what: string, expected: number | string, actual: number | string): Check => ({
  what,
  expected,
  actual,
  ok: expected === actual,
});

const AccountBody = z.object({
  status: z.string(),
  lastSyncedAt: z.string().nullable(),
  messageCount: z.number(),
  attachmentCount: z.number(),
});
type AccountBody = z.infer<typeof AccountBody>;

/** Polls the account until it is idle after a sync that ended after `after`, holding `messages` emails. */
async function waitForIdle(
  api: { url: string },
  tenant: Tenant,
  accountId: string,
  after: string | null,
  messages: number,
): Promise<{ account: AccountBody; at: number }> {
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  for (;;) {
    const reply = await call(api, 'GET', `/v1/mail/accounts/${accountId}`, tenant);
    const account = AccountBody.safeParse(reply.body).data;
    const at = performance.now();
    if (account?.status === 'error' || account?.status === 'needs_reauth') {
      throw new Error(`the account is ${account.status}: ${JSON.stringify(reply.body)}`);
    }
    if (
      account?.status === 'idle' &&
      account.lastSyncedAt !== null &&
      (after === null || account.lastSyncedAt > after) &&
      account.messageCount === messages
    ) {
      return { account, at };
    }
    if (Date.now() > deadline) throw new Error(`no finished sync within the hour: ${JSON.stringify(reply.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A refresh token for the mailbox, got as any client gets one: the code flow at the stand-in. */
async function grantFor(google: GoogleStandIn, settings: Record<string, string>): Promise<string> {
  const client = new OAuth2Client({
    clientId: google.clientId,
    clientSecret: google.clientSecret,
    redirectUri: REDIRECT_URI,
    endpoints: { oauth2AuthBaseUrl: settings.GOOGLE_AUTH_URL, oauth2TokenUrl: settings.GOOGLE_TOKEN_URL },
  });
  const url = client.generateAuthUrl({ access_type: 'offline', scope: [GMAIL_READONLY_SCOPE] });
  const code = new URL(google.authorize(url, { email: EMAIL })).searchParams.get('code') ?? '';
  const { tokens } = await client.getToken(code);
  if (!tokens.refresh_token) throw new Error('the stand-in gave no refresh token');
  return tokens.refresh_token;
}

/** Runs the bare client loop in a process of its own; its figures. */
async function bareRead(input: BareReadInput): Promise<BareReadResult> {
  const child = spawn(
    process.execPath,
    ['--import=tsx', path.join(projectRoot, 'bench', 'lib', 'gmail-bare-read.ts'), JSON.stringify(input)],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the bare client loop exited with ${code}: ${output}`);
  return JSON.parse(output.trim().split('\n').at(-1)!) as BareReadResult;
}

const StoredCounts = z.object({ emails: z.number(), distinct: z.number(), documents: z.number(), chunks: z.number() });
const AttachmentCount = z.object({ status: z.string(), count: z.number() });
const EmailLabels = z.object({ gmailId: z.string(), labels: z.array(z.string()) });

/** What is stored for the account, checked against the mailbox (and the sample plans of its mails). */
async function verify(
  pool: DatabasePool,
  tenant: Tenant,
  accountId: string,
  mailbox: GmailMailbox,
  plans: ReadonlyMap<string, SamplePlan>,
  gone: readonly string[],
): Promise<Check[]> {
  return withTenant(pool, { tenantId: tenant.tenantId, userId: tenant.userId }, async (tx) => {
    const counts = await tx.one(sql.type(StoredCounts)`
      SELECT count(*)::int AS emails, count(DISTINCT gmail_message_id)::int AS distinct,
             count(document_id)::int AS documents,
             (SELECT count(*)::int FROM chunks c JOIN emails e ON e.document_id = c.document_id
              WHERE e.account_id = ${accountId}) AS chunks
      FROM emails WHERE account_id = ${accountId}
    `);
    const attachments = await tx.any(sql.type(AttachmentCount)`
      SELECT a.status, count(*)::int AS count FROM email_attachments a JOIN emails e ON e.id = a.email_id
      WHERE e.account_id = ${accountId} GROUP BY a.status
    `);
    const stored = await tx.any(sql.type(EmailLabels)`
      SELECT gmail_message_id AS "gmailId", labels FROM emails WHERE account_id = ${accountId}
    `);
    const byStatus = Object.fromEntries(attachments.map((row) => [row.status, row.count]));
    const live = [...mailbox.messages.values()];
    const planned = live.flatMap((message) => plans.get(message.id)?.attachments ?? []);
    const labelsOf = new Map(stored.map((row) => [row.gmailId, [...row.labels].sort().join(',')]));
    const goneStored = gone.filter((id) => labelsOf.has(id)).length;
    const labelMismatches = live.filter(
      (message) => labelsOf.get(message.id) !== [...message.labelIds].sort().join(','),
    ).length;
    return [
      check('emails stored, one per message in the mailbox', live.length, counts.emails),
      check('distinct Gmail ids among them (no duplicate)', counts.emails, counts.distinct),
      check('emails with a searchable document', live.length, counts.documents),
      check('deleted messages still stored', 0, goneStored),
      check('emails whose labels differ from Gmail’s', 0, labelMismatches),
      check(
        'attachments indexed (txt, pdf, docx, html)',
        planned.filter((part) => INDEXED_KINDS.has(part.kind)).length,
        byStatus.indexed ?? 0,
      ),
      check(
        'attachments skipped (png, zip)',
        planned.filter((part) => !INDEXED_KINDS.has(part.kind)).length,
        byStatus.skipped ?? 0,
      ),
      check('chunks of the emails’ documents, at least one each', 'yes', counts.chunks >= live.length ? 'yes' : 'no'),
    ];
  });
}

/** CHANGES changes in the mailbox: 40 % new mails, 30 % deletions, 30 % label changes (one record each). */
function changeMailbox(mailbox: GmailMailbox, plans: Map<string, SamplePlan>, round: number) {
  const deletes = Math.round(CHANGES * 0.3);
  const relabels = Math.round(CHANGES * 0.3);
  const adds = CHANGES - deletes - relabels;
  const existing = [...mailbox.messages.keys()];
  // Spread over the mailbox, a different stride each round.
  const stride = Math.max(1, Math.floor(existing.length / (deletes + relabels + 1)));
  const chosen = existing.filter((_, i) => (i + round) % stride === 0).slice(0, deletes + relabels);
  const deleted = chosen.slice(0, deletes);
  const relabelled = chosen.slice(deletes);
  for (const id of deleted) mailbox.delete(id);
  for (const [i, id] of relabelled.entries()) {
    if (i % 2 === 0) mailbox.relabel(id, { add: [`Label_round_${round}`] });
    else mailbox.relabel(id, { remove: ['INBOX'] });
  }
  for (const { message, plan } of fillSampleMailbox(mailbox, adds, SEED * 1000 + round + 1)) {
    plans.set(message.id, plan);
  }
  return { adds, deletes: deleted.length, relabels: relabelled.length, deleted };
}

const started = Date.now();
const localDir = path.join(projectRoot, '.local');
const runDir = path.join(localDir, 'bench-runs', `mail-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(runDir, { recursive: true });
const google = new GoogleStandIn();
await google.start();
const mailbox = google.mailbox(EMAIL);
const plans = new Map(fillSampleMailbox(mailbox, MESSAGES, SEED).map(({ message, plan }) => [message.id, plan]));
const stack = await startBenchStack(runDir, localDir, { persistTemporal: false });
const googleSettings = google.settings(REDIRECT_URI);
const env: Record<string, string> = {
  ...stack.env,
  ...googleSettings,
  JWT_SECRET: randomBytes(32).toString('base64url'),
  JWT_TTL_SECONDS: '86400',
  TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  BLOB_DIR: path.join(runDir, 'blobs'),
  EMBEDDING_PROVIDER: 'hash',
  // Syncs happen when asked (POST …/sync), not on the timer.
  MAIL_SYNC_INTERVAL_SECONDS: '86400',
};
const config = loadConfig(env);
// A page's batches are stored side by side (workflows/mailbox.ts), each fetching
// MAIL_FETCH_CONCURRENCY messages at a time: the sync's messages.get requests in flight.
const concurrency = Math.min(
  config.MAIL_LIST_PAGE_SIZE,
  Math.ceil(config.MAIL_LIST_PAGE_SIZE / config.MAIL_BATCH_SIZE) * config.MAIL_FETCH_CONCURRENCY,
);
const pool = await createDatabasePool(stack.env.DATABASE_URL!, { maxPoolSize: 2 });
let failed = true;
const api = await startApiProcess(env);
const worker = superviseWorker({ env, logFile: path.join(runDir, 'worker.log'), restartDelayMs: 1_000 });
try {
  await worker.ready;
  const refreshToken = await grantFor(google, googleSettings);
  const bareInput = (attachments: boolean): BareReadInput => ({
    gmailApiRoot: googleSettings.GMAIL_API_ROOT!,
    tokenUrl: googleSettings.GOOGLE_TOKEN_URL!,
    clientId: google.clientId,
    clientSecret: google.clientSecret,
    refreshToken,
    pageSize: config.MAIL_LIST_PAGE_SIZE,
    concurrency,
    attachments,
  });
  const bareRuns = async () => ({
    raw: await bareRead(bareInput(false)),
    withAttachments: await bareRead(bareInput(true)),
  });
  const bareBefore = await bareRuns();
  console.error(`bench:mail bare client loop, before: ${JSON.stringify(bareBefore)}`);

  const owner = await signUpOwner(api);
  const tenant = await createBenchTenant(api, owner, 'Mail bench');
  const connect = await call(api, 'POST', '/v1/mail/accounts', { ...tenant, body: {} });
  if (connect.status !== 201) throw new Error(`connect failed: ${JSON.stringify(connect.body)}`);
  const redirect = google.authorize((connect.body as { authorizationUrl: string }).authorizationUrl, { email: EMAIL });
  const fullBegun = performance.now();
  const callback = await call(api, 'GET', `/v1/mail/oauth/callback${new URL(redirect).search}`);
  if (callback.status !== 200) throw new Error(`callback failed: ${JSON.stringify(callback.body)}`);
  const accountId = (callback.body as { id: string }).id;
  const full = await waitForIdle(api, tenant, accountId, null, MESSAGES);
  const fullMs = full.at - fullBegun;
  const fullChecks = await verify(pool, tenant, accountId, mailbox, plans, []);
  console.error(`bench:mail full sync: ${MESSAGES} messages in ${seconds(fullMs)}; ${JSON.stringify(fullChecks)}`);

  const bareAfter = await bareRuns();
  console.error(`bench:mail bare client loop, after: ${JSON.stringify(bareAfter)}`);

  const incremental: {
    readonly round: number;
    readonly adds: number;
    readonly deletes: number;
    readonly relabels: number;
    readonly ms: number;
    readonly checks: readonly Check[];
  }[] = [];
  let deletedSoFar: string[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const before = AccountBody.parse((await call(api, 'GET', `/v1/mail/accounts/${accountId}`, tenant)).body);
    const change = changeMailbox(mailbox, plans, round);
    deletedSoFar = [...deletedSoFar, ...change.deleted];
    const begun = performance.now();
    const asked = await call(api, 'POST', `/v1/mail/accounts/${accountId}/sync`, tenant);
    if (asked.status !== 202) throw new Error(`sync failed: ${JSON.stringify(asked.body)}`);
    const done = await waitForIdle(api, tenant, accountId, before.lastSyncedAt, mailbox.messages.size);
    const checks = await verify(pool, tenant, accountId, mailbox, plans, deletedSoFar);
    const { deleted: _deleted, ...counts } = change;
    incremental.push({ round, ...counts, ms: done.at - begun, checks });
    console.error(`bench:mail incremental round ${round}: ${JSON.stringify(incremental.at(-1))}`);
  }

  const rate = (messages: number, ms: number) => messages / (ms / 1000);
  /** A ratio far below 1 as a percentage and as 1 : n (ratio()'s two decimals would show 0.00×). */
  const share = (value: number) =>
    value >= 0.1 ? ratio(value) : `${(100 * value).toPrecision(2)} % (1 : ${Math.round(1 / value)})`;
  const syncRate = rate(MESSAGES, fullMs);
  const bareRate = (pick: (runs: typeof bareBefore) => BareReadResult) =>
    (rate(pick(bareBefore).messages, pick(bareBefore).ms) + rate(pick(bareAfter).messages, pick(bareAfter).ms)) / 2;
  const rawRate = bareRate((runs) => runs.raw);
  const attachmentsRate = bareRate((runs) => runs.withAttachments);
  const checks = [...fullChecks, ...incremental.flatMap((round) => round.checks)];
  const allOk = checks.every((entry) => entry.ok);
  const incrementalMedian = median(incremental.map((round) => round.ms));
  const attachmentTotal = [...plans.values()]
    .slice(0, MESSAGES)
    .reduce((sum, plan) => sum + plan.attachments.length, 0);
  const bareRow = (name: string, before: BareReadResult, after: BareReadResult, mean: number) =>
    `| ${name} | ${rate(before.messages, before.ms).toFixed(0)} | ${rate(after.messages, after.ms).toFixed(0)} | ${mean.toFixed(0)} | ${share(syncRate / mean)} |`;
  const markdown = [
    '# Gmail sync (`npm run bench:mail`)',
    '',
    `${new Date().toISOString()} · ${machine()} · total time ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
    `A stand-in mailbox of ${MESSAGES} generated mails (${full.account.attachmentCount} attachments stored of ` +
      `${attachmentTotal} generated: txt, pdf, docx, html indexed; png, zip skipped), seed ${SEED}, served by the Google ` +
      'stand-in (devtools/google-stand-in/) over the real Gmail REST protocol. API and worker each a process of their own, ' +
      `hash embedder, config's mail defaults (page ${config.MAIL_LIST_PAGE_SIZE}, batch ${config.MAIL_BATCH_SIZE}, ` +
      `fetch concurrency ${config.MAIL_FETCH_CONCURRENCY}: ${concurrency} messages.get in flight). The bare client loop ` +
      '(bench/lib/gmail-bare-read.ts, a process of its own, @googleapis/gmail) reads the same mailbox with the same ' +
      'concurrency and stores nothing; it ran right before and right after the full sync, and the ratio is against the mean.',
    '',
    '| Full sync | Messages | Time | Messages/s |',
    '| --- | --- | --- | --- |',
    `| Quarry (connect → account idle) | ${MESSAGES} | ${seconds(fullMs)} | ${syncRate.toFixed(1)} |`,
    '',
    '| Bare client loop | before (msg/s) | after (msg/s) | mean (msg/s) | Quarry / bare |',
    '| --- | --- | --- | --- | --- |',
    bareRow('messages.list + messages.get raw (the requests the sync makes)', bareBefore.raw, bareAfter.raw, rawRate),
    bareRow(
      '… + messages.attachments.get for each attachment',
      bareBefore.withAttachments,
      bareAfter.withAttachments,
      attachmentsRate,
    ),
    '',
    'The sync reads attachments from the raw message (format=raw holds every MIME part), so it makes no ' +
      'attachments.get request: the first row is the like-for-like baseline.',
    '',
    `Incremental sync of ${CHANGES} changes (POST …/sync → account idle with the changes applied), ${ROUNDS} rounds: ` +
      `median ${seconds(incrementalMedian)}.`,
    '',
    '| Round | Added | Deleted | Label changes | Time |',
    '| --- | --- | --- | --- | --- |',
    ...incremental.map(
      (round) => `| ${round.round} | ${round.adds} | ${round.deletes} | ${round.relabels} | ${seconds(round.ms)} |`,
    ),
    '',
    `Checks after each phase (${allOk ? 'all passed' : 'SOME FAILED'}):`,
    '',
    '| Phase | Check | Expected | Stored |',
    '| --- | --- | --- | --- |',
    ...fullChecks.map(
      (entry) => `| full | ${entry.what} | ${entry.expected} | ${entry.actual}${entry.ok ? '' : ' ✗'} |`,
    ),
    ...incremental.flatMap((round) =>
      round.checks.map(
        (entry) =>
          `| incremental ${round.round} | ${entry.what} | ${entry.expected} | ${entry.actual}${entry.ok ? '' : ' ✗'} |`,
      ),
    ),
    '',
  ].join('\n');
  const report = {
    generatedAt: new Date().toISOString(),
    machine: machine(),
    settings: { messages: MESSAGES, changes: CHANGES, rounds: ROUNDS, seed: SEED, concurrency },
    fullSync: { ms: fullMs, messagesPerSecond: syncRate, account: full.account, checks: fullChecks },
    bare: {
      before: bareBefore,
      after: bareAfter,
      rawMessagesPerSecond: rawRate,
      withAttachmentsPerSecond: attachmentsRate,
    },
    ratio: { toRaw: syncRate / rawRate, toWithAttachments: syncRate / attachmentsRate },
    incremental: { medianMs: incrementalMedian, rounds: incremental },
    allChecksPassed: allOk,
  };
  console.log(writeResults('mail', report, markdown));
  if (!allOk) throw new Error('bench:mail: a check failed (see the table)');
  failed = false;
} finally {
  await worker.stop();
  await api.stop();
  await pool.end();
  await stack.stop();
  await google.stop();
  if (!failed) rmSync(runDir, { recursive: true, force: true });
  else console.error(`bench:mail: logs kept in ${runDir}`);
  console.error(`bench:mail took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
