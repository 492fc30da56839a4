// The fuzz suite: requests for every route the API documents, drawn from the route's own schema
// (/openapi.json, generated from the zod contracts) and mixed with the hostile catalogue
// (hostile.ts), sent to the API running as a process of its own with a platform and an
// ingestion worker on queues of its own (so /readyz/workers has every queue polled).
// Whatever is sent: never a 5xx, never a connection dropped or left hanging, the process alive
// and answering /healthz, and every upload it accepted ends in a terminal status within a
// bound. FUZZ_RUNS sets the case count (a few hundred in `npm test`; `npm run fuzz` runs
// thousands), FUZZ_SEED replays a run.
import { randomUUID } from 'node:crypto';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import fc from 'fast-check';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { ingestionWorkflowId } from '../../workflow-client/ingestion-handle.ts';
import { createPlatformWorker } from '../../worker.ts';
import { addMember, call, signUp, tenantOwner, type Account } from '../api/harness.ts';
import { documentSettings, postText, startIngestionWorker, type RunningWorker } from '../documents/harness.ts';
import { startApiProcess, type ApiProcess } from '../helpers/api-process.ts';
import { sendRaw } from '../helpers/raw-http.ts';
import { ownerPool, uniqueTaskQueue } from '../helpers/stack.ts';
import { startTestWorker } from '../helpers/worker.ts';
import { GoogleStandIn, pushBody } from '../../devtools/google-stand-in/google-server.ts';
import { hostileFile, hostileFilename, hostileHeaders, hostileId, hostileRawBody, hostileValue } from './hostile.ts';
import { propertyNames, valueFor, type Components, type JsonSchema } from './schema-arbitrary.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** How long any one request may take to be answered. */
const REQUEST_TIMEOUT_MS = 30_000;
/** How long an accepted upload may take to reach a terminal status, once the cases are sent. */
const SETTLE_TIMEOUT_MS = 120_000;

/** The audience of Gmail push tokens: /v1/mail/push is on, and the fuzz signs some pushes as Google does. */
const PUSH_AUDIENCE = 'https://quarry.test/v1/mail/push';
const PUSH = '/v1/mail/push';

type Identity = 'owner' | 'member' | 'viewer' | 'apiKey' | 'none' | 'garbage';

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly pathParams: readonly string[];
  readonly query: Readonly<Record<string, JsonSchema>>;
  readonly json?: JsonSchema;
  readonly multipart?: JsonSchema;
}

interface World {
  readonly api: ApiProcess;
  /** Google's stand-in, so that the mail routes are configured and reach a live OAuth server. */
  readonly google: GoogleStandIn;
  readonly worker: RunningWorker;
  readonly platformWorker: RunningWorker;
  readonly owner: Account & { tenantId: string };
  readonly accounts: Record<'owner' | 'member' | 'viewer', Account>;
  readonly apiKey: string;
  /** Known ids by path parameter name: the fuzz sends these beside drawn ones. */
  readonly ids: Record<string, string[]>;
  readonly components: Components;
  readonly operations: readonly Operation[];
  /** Documents whose ingestion the cases started, to check they all end. */
  /** Documents whose ingestion a case started, and the workflow that builds them (a batch's import, or their own). */
  readonly started: Map<string, { userId: string; what: string; workflowId?: string }>;
}

const test = anyTest as TestFn<World>;

function operationsOf(document: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const operations: Operation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, spec] of Object.entries(methods)) {
      const parameters = (spec.parameters ?? []) as { name: string; in: string; schema: JsonSchema }[];
      const content = ((spec.requestBody as { content?: Record<string, { schema: JsonSchema }> })?.content ??
        {}) as Record<string, { schema: JsonSchema }>;
      operations.push({
        method: method.toUpperCase(),
        template,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: Object.fromEntries(parameters.filter((p) => p.in === 'query').map((p) => [p.name, p.schema])),
        ...(content['application/json'] ? { json: content['application/json'].schema } : {}),
        ...(content['multipart/form-data'] ? { multipart: content['multipart/form-data'].schema } : {}),
      });
    }
  }
  return operations;
}

test.before(async (t) => {
  const google = new GoogleStandIn();
  await google.start();
  const settings = {
    ...documentSettings({ PLATFORM_TASK_QUEUE: uniqueTaskQueue('platform') }),
    ...google.settings('https://quarry.test/v1/mail/oauth/callback'),
    ...google.pushSettings(PUSH_AUDIENCE),
    METRICS_TOKEN: 'fuzz-metrics-token-0123456789',
  };
  const worker = await startIngestionWorker(settings);
  const platformWorker = await startTestWorker(createPlatformWorker, { settings });
  const api = await startApiProcess(settings);
  const owner = await tenantOwner(api, 'fuzz-owner');
  const member = await signUp(api, 'fuzz-member');
  const viewer = await signUp(api, 'fuzz-viewer');
  const disposable = await signUp(api, 'fuzz-disposable');
  await addMember(api, owner.token, owner.tenantId, member.email, 'member');
  await addMember(api, owner.token, owner.tenantId, viewer.email, 'viewer');
  await addMember(api, owner.token, owner.tenantId, disposable.email, 'viewer');
  const asOwner = { token: owner.token, tenantId: owner.tenantId };
  const key = await call(api, 'POST', '/v1/api-keys', { ...asOwner, body: { name: 'fuzz', role: 'member' } });
  const spareKey = await call(api, 'POST', '/v1/api-keys', { ...asOwner, body: { name: 'spare', role: 'viewer' } });
  const shared = await postText(api, owner, { title: 'Shared', text: 'Parental leave is sixteen weeks.' });
  const secret = await postText(
    api,
    { token: member.token, tenantId: owner.tenantId },
    {
      title: 'Private',
      text: 'A private note about the budget.',
      visibility: 'private',
    },
  );
  const conversation = await call(api, 'POST', '/v1/conversations', { ...asOwner, body: { title: 'Fuzz' } });
  const jobs = await call(api, 'GET', '/v1/jobs', asOwner);
  // A connected mailbox and one still connecting, for the mail routes' ids.
  const mail = await call(api, 'POST', '/v1/mail/accounts', { ...asOwner, body: {} });
  const connected = await call(
    api,
    'GET',
    `/v1/mail/oauth/callback${new URL(google.authorize(mail.body.authorizationUrl, { email: 'fuzz@gmail.test' })).search}`,
  );
  const pendingMail = await call(api, 'POST', '/v1/mail/accounts', { ...asOwner, body: {} });
  const openapi = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components: { schemas: Components };
  };
  for (const reply of [key, spareKey, shared, secret, conversation, jobs, mail, connected, pendingMail]) {
    if (reply.status >= 300) throw new Error(`fixture failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
  t.context = {
    api,
    google,
    worker,
    platformWorker,
    owner,
    accounts: { owner, member, viewer },
    apiKey: key.body.key,
    ids: {
      tenantId: [owner.tenantId],
      documentId: [shared.body.id, secret.body.id],
      conversationId: [conversation.body.id],
      jobId: jobs.body.jobs.map((job: { id: string }) => job.id).slice(0, 2),
      apiKeyId: [spareKey.body.id],
      userId: [disposable.userId],
      accountId: [connected.body.id, pendingMail.body.account.id],
    },
    components: openapi.components.schemas,
    operations: operationsOf(openapi),
    started: new Map([
      [shared.body.id, { userId: owner.userId, what: 'the shared fixture' }],
      [secret.body.id, { userId: member.userId, what: 'the private fixture' }],
    ]),
  };
});

test.after.always(async (t) => {
  await t.context.api?.stop();
  await t.context.worker?.stop();
  await t.context.platformWorker?.stop();
  await t.context.google?.stop();
});

interface Case {
  readonly operation: Operation;
  readonly identity: Identity;
  readonly tenant: 'own' | 'none' | 'foreign';
  readonly params: Record<string, string>;
  readonly query: [string, string][];
  readonly headers: Record<string, string>;
  readonly body:
    | { kind: 'none' }
    | { kind: 'json'; value: unknown }
    | { kind: 'raw'; body: Buffer; contentType: string }
    | { kind: 'multipart'; file: { filename: string; bytes: Buffer; mimeType: string }; fields: [string, string][] }
    | { kind: 'truncated'; file: { filename: string; bytes: Buffer; mimeType: string }; cutAt: number };
}

const asText = (value: unknown) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined'));
/**
 * Query values are cut to a size Node's HTTP parser accepts (16 KiB of request head): past it the
 * server answers 431 before any of our code runs, and may close while the client still sends.
 */
const asQueryValue = (value: unknown) => asText(value).slice(0, 1000);

/** A valid value, or one with a field replaced by a hostile one, or an unknown field added. */
function mutated(schema: JsonSchema, world: World): fc.Arbitrary<unknown> {
  const valid = valueFor(schema, world.components);
  const names = propertyNames(schema, world.components);
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    {
      weight: 3,
      arbitrary: fc
        .tuple(valid, names.length ? fc.constantFrom(...names) : fc.constant('unknown'), hostileValue)
        .map(([value, name, hostile]) =>
          value && typeof value === 'object' && !Array.isArray(value) ? { ...value, [name]: hostile } : hostile,
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.string({ maxLength: 12 }), hostileValue)
        .map(([value, name, hostile]) =>
          value && typeof value === 'object' && !Array.isArray(value) ? { ...value, [`x${name}`]: hostile } : value,
        ),
    },
    { weight: 1, arbitrary: hostileValue },
  );
}

function caseFor(operation: Operation, world: World): fc.Arbitrary<Case> {
  const params = Object.fromEntries(
    operation.pathParams.map((name) => [
      name,
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...(world.ids[name] ?? [randomUUID()])) },
        { weight: 1, arbitrary: hostileId },
      ),
    ]),
  );
  const query = fc
    .tuple(
      fc.record(
        Object.fromEntries(
          Object.entries(operation.query).map(([name, schema]) => [
            name,
            fc.oneof(
              { weight: 3, arbitrary: valueFor(schema, world.components).map(asQueryValue) },
              { weight: 1, arbitrary: hostileValue.map(asQueryValue) },
            ),
          ]),
        ),
        { requiredKeys: [] },
      ),
      fc.array(
        fc.tuple(
          fc.constantFrom('limit', 'cursor', 'tag', 'kind', 'status', 'x', '__proto__'),
          hostileValue.map(asQueryValue),
        ),
        {
          maxLength: 2,
        },
      ),
    )
    .map(([known, extra]) => [...Object.entries(known).map(([k, v]) => [k, String(v)] as [string, string]), ...extra]);

  const bodies: fc.Arbitrary<Case['body']>[] = [fc.constant({ kind: 'none' as const })];
  if (operation.json) bodies.push(mutated(operation.json, world).map((value) => ({ kind: 'json' as const, value })));
  if (operation.json || operation.multipart) {
    bodies.push(hostileRawBody.map((raw) => ({ kind: 'raw' as const, ...raw })));
  }
  if (operation.template === PUSH) {
    // Pushes as Pub/Sub sends them, for the fuzz's own mailbox or an address nobody has.
    bodies.push(
      fc
        .tuple(
          fc.constantFrom('fuzz@gmail.test', 'nobody@gmail.test', 'FUZZ@gmail.test'),
          fc.bigInt(0n, 2n ** 64n - 1n),
        )
        .map(([emailAddress, historyId]) => ({ kind: 'json' as const, value: pushBody({ emailAddress, historyId }) })),
    );
  }
  if (operation.multipart) {
    bodies.push(
      fc
        .tuple(
          hostileFile,
          hostileFilename,
          fc.array(
            fc.tuple(
              fc.constantFrom('title', 'description', 'tags', 'visibility', 'file', 'other'),
              fc.oneof(fc.string({ maxLength: 40 }), hostileValue.map(asText)),
            ),
            { maxLength: 4 },
          ),
        )
        .map(([file, rename, fields]) => ({
          kind: 'multipart' as const,
          file: { ...file, filename: rename(file.filename) },
          fields,
        })),
    );
    bodies.push(bodies.at(-1)!); // uploads are what go wrong most: draw them more often
    bodies.push(
      fc.tuple(hostileFile, fc.double({ min: 0, max: 1, noNaN: true })).map(([file, cutAt]) => ({
        kind: 'truncated' as const,
        file,
        cutAt,
      })),
    );
  }
  return (
    fc
      .record({
        operation: fc.constant(operation),
        identity: fc.constantFrom<Identity>(
          ...([
            'owner',
            'owner',
            'owner',
            'owner',
            'member',
            'member',
            'viewer',
            'apiKey',
            'apiKey',
            'none',
            'garbage',
          ] as const),
        ),
        tenant: fc.constantFrom<Case['tenant']>('own', 'own', 'own', 'own', 'own', 'own', 'none', 'foreign'),
        params: fc.record(params),
        query,
        headers: fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: hostileHeaders }),
        body: fc.oneof(...bodies),
      })
      // fast-check prints a counterexample with this: one line a person can read.
      .map((drawn) => Object.assign(drawn, { [fc.toStringMethod]: () => describe(drawn) }))
  );
}

/** Uploads and the retrieval routes do the most with what they are sent: they are drawn more often. */
function weightOf(operation: Operation): number {
  if (operation.multipart) return 12;
  if (['/v1/search', '/v1/ask'].includes(operation.template)) return 3;
  return 1;
}

async function tokenOf(world: World, identity: Identity, operation: Operation): Promise<string | null> {
  switch (identity) {
    case 'none':
      return null;
    case 'garbage':
      return 'qk_not-a-real-key';
    case 'apiKey':
      return world.apiKey;
    default: {
      // A push bears Google's token, not a Quarry credential: the people here sign as Pub/Sub does.
      if (operation.template === PUSH) return world.google.pushToken({ aud: PUSH_AUDIENCE });
      const account = world.accounts[identity];
      if (operation.template !== '/v1/auth/logout') return account.token;
      // Logging out ends the session it is sent with: use one of its own.
      const login = await call(world.api, 'POST', '/v1/auth/login', {
        body: { email: account.email, password: account.password },
      });
      return login.body.token;
    }
  }
}

function describe(c: Case): string {
  const body =
    c.body.kind === 'json'
      ? JSON.stringify(c.body.value)?.slice(0, 300)
      : c.body.kind === 'raw'
        ? `${c.body.contentType}: ${c.body.body.subarray(0, 120).toString('latin1')}… (${c.body.body.length} bytes)`
        : c.body.kind === 'multipart'
          ? `file ${c.body.file.filename.slice(0, 80)} (${c.body.file.bytes.length} bytes), fields ${JSON.stringify(c.body.fields).slice(0, 200)}`
          : c.body.kind === 'truncated'
            ? `file ${c.body.file.filename} cut at ${c.body.cutAt}`
            : 'no body';
  return `${c.operation.method} ${c.operation.template} as ${c.identity}/${c.tenant} params=${JSON.stringify(c.params).slice(0, 200)} query=${JSON.stringify(c.query).slice(0, 200)} headers=${JSON.stringify(c.headers).slice(0, 200)} body=${body}`;
}

async function send(world: World, c: Case): Promise<{ status: number; text: string }> {
  let path = c.operation.template;
  for (const [name, value] of Object.entries(c.params)) path = path.replace(`{${name}}`, value);
  const search = new URLSearchParams(c.query).toString();
  const headers: Record<string, string> = { ...c.headers };
  const token = await tokenOf(world, c.identity, c.operation);
  if (token) headers.authorization = `Bearer ${token}`;
  if (c.tenant === 'own') headers['x-tenant-id'] ??= world.owner.tenantId;
  if (c.tenant === 'foreign') headers['x-tenant-id'] = randomUUID();
  const url = `${world.api.url}${path}${search ? `?${search}` : ''}`;
  if (c.body.kind === 'truncated') return sendTruncated(url, headers, c.body);
  let body: RequestInit['body'];
  if (c.body.kind === 'json') {
    body = JSON.stringify(c.body.value) ?? 'null';
    headers['content-type'] = 'application/json';
  } else if (c.body.kind === 'raw') {
    body = new Uint8Array(c.body.body);
    headers['content-type'] = c.body.contentType;
  } else if (c.body.kind === 'multipart') {
    const form = new FormData();
    for (const [name, value] of c.body.fields) form.append(name, value);
    form.append(
      'file',
      new Blob([new Uint8Array(c.body.file.bytes)], { type: c.body.file.mimeType }),
      c.body.file.filename,
    );
    body = form;
  }
  const method = c.operation.method;
  const response = await fetch(url, {
    method,
    headers,
    ...(body !== undefined && method !== 'GET' && method !== 'DELETE' ? { body } : {}),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: response.status, text: await response.text() };
}

/** A multipart upload whose body ends early (its Content-Length says so): the API must answer 400. */
async function sendTruncated(
  url: string,
  headers: Record<string, string>,
  body: Extract<Case['body'], { kind: 'truncated' }>,
): Promise<{ status: number; text: string }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(body.file.bytes)], { type: body.file.mimeType }), body.file.filename);
  const encoded = new Response(form);
  const bytes = Buffer.from(await encoded.arrayBuffer());
  // Never the whole body: the closing boundary is always cut.
  const cut = bytes.subarray(0, Math.floor(body.cutAt * (bytes.length - 8)));
  const { pathname, search } = new URL(url);
  const reply = await sendRaw(url, {
    method: 'POST',
    path: `${pathname}${search}`,
    headers: { ...headers, 'content-type': encoded.headers.get('content-type')!, 'content-length': String(cut.length) },
    body: cut,
  });
  if (reply.status === null) throw new Error(`the connection closed without an answer: ${reply.head}`);
  return { status: reply.status, text: reply.body };
}

/** Remembers the documents whose ingestion a case started, to wait for them at the end. */
function noteStarted(world: World, c: Case, reply: { status: number; text: string }): void {
  const starts =
    (c.operation.method === 'POST' && c.operation.template === '/v1/documents' && reply.status < 300) ||
    (c.operation.template === '/v1/documents/{documentId}/reprocess' && reply.status < 300);
  const batch = c.operation.method === 'POST' && c.operation.template === '/v1/documents/batch' && reply.status < 300;
  if (!starts && !batch) return;
  const body = JSON.parse(reply.text) as {
    id?: string;
    documentId?: string;
    documents?: { outcome: string; id?: string; document?: { id: string } }[];
    batch?: { workflowId: string | null };
  };
  const workflowId = body.batch?.workflowId ?? undefined;
  const ids = batch
    ? (body.documents ?? []).flatMap((item) =>
        item.outcome === 'created' || item.outcome === 'queued' ? [item.document?.id ?? item.id] : [],
      )
    : [body.id ?? c.params.documentId];
  const actor =
    c.identity === 'owner' || c.identity === 'member' || c.identity === 'viewer'
      ? world.accounts[c.identity].userId
      : null;
  for (const id of ids) {
    if (id && !world.started.has(id)) {
      world.started.set(id, { userId: actor ?? world.owner.userId, what: describe(c), workflowId });
    }
  }
}

async function assertHealthy(t: ExecutionContext<World>): Promise<void> {
  t.true(t.context.api.alive(), `the API process died: ${t.context.api.stderr()}`);
  const health = await fetch(`${t.context.api.url}/healthz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  t.is(health.status, 200);
}

test.serial('no drawn or hostile request answers 5xx, drops or hangs its connection, or kills the API', async (t) => {
  t.timeout(RUNS * 1_000 + 60_000);
  const world = t.context;
  const statuses = new Map<number, number>();
  let cases = 0;
  let last = 'none';
  const property = fc.asyncProperty(
    fc
      .oneof(
        ...world.operations.map((operation) => ({ weight: weightOf(operation), arbitrary: fc.constant(operation) })),
      )
      .chain((operation) => caseFor(operation, world)),
    async (c) => {
      cases += 1;
      const previous = last;
      last = describe(c);
      let reply: { status: number; text: string };
      try {
        reply = await send(world, c);
      } catch (error) {
        const state = world.api.alive() ? 'the API is alive' : `the API died: ${world.api.stderr().slice(-3000)}`;
        const { message, cause } = error as Error;
        throw new Error(
          `no answer (${message}; ${cause instanceof Error ? cause.message : ''}) to ${describe(c)}; ${state}; the case before: ${previous}`,
          { cause: error },
        );
      }
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      if (reply.status >= 500) throw new Error(`${reply.status} ${reply.text.slice(0, 300)} for ${describe(c)}`);
      if (!world.api.alive()) throw new Error(`the API process died after ${describe(c)}: ${world.api.stderr()}`);
      noteStarted(world, c, reply);
    },
  );
  await fc.assert(property, {
    numRuns: RUNS,
    endOnFailure: true,
    includeErrorInReport: true,
    ...(SEED === undefined ? {} : { seed: SEED }),
  });
  await assertHealthy(t);
  t.is(cases, RUNS);
  t.log(`${cases} cases; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  // The draws reached the routes' inner workings, not only their refusals.
  t.true(
    [...statuses.keys()].some((status) => status < 300),
    'some cases succeeded',
  );
  t.true(
    [...statuses.keys()].some((status) => status === 400),
    'some cases were refused as invalid',
  );
});

test.serial('every upload the fuzz got accepted reaches a terminal status in bounded time', async (t) => {
  t.timeout(SETTLE_TIMEOUT_MS + 60_000);
  const world = t.context;
  t.true(world.started.size > 2, 'the fuzz uploaded documents');
  const client = world.worker.temporal.client;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), SETTLE_TIMEOUT_MS)));
  try {
    await Promise.all(
      [...world.started].map(async ([documentId, { workflowId }]) => {
        const handle = client.workflow.getHandle(
          workflowId ?? ingestionWorkflowId({ tenantId: world.owner.tenantId, documentId }),
        );
        const closed = await Promise.race([
          handle.result().then(
            () => true,
            () => true,
          ),
          timedOut,
        ]);
        t.true(
          closed,
          `ingestion of ${documentId} still open after ${SETTLE_TIMEOUT_MS} ms: ${world.started.get(documentId)?.what}`,
        );
      }),
    );
  } finally {
    clearTimeout(timer);
  }
  const owner = await ownerPool();
  try {
    const open: string[] = [];
    for (const [documentId, { userId }] of world.started) {
      const status = await withTenant(owner, { tenantId: world.owner.tenantId, userId }, (tx) =>
        tx.maybeOneFirst(
          sql.type(z.object({ status: z.string() }))`SELECT status FROM documents WHERE id = ${documentId}`,
        ),
      );
      if (status === 'queued' || status === 'processing') open.push(`${documentId}: ${status}`);
    }
    t.deepEqual(open, []);
  } finally {
    await owner.end();
  }
  await assertHealthy(t);
});
