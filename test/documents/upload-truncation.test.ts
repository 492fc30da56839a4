// A multipart upload cut short, however it is cut, is answered 400 (or, when the client
// itself hung up, not at all) and never takes the API process down: after every variant the
// same process still answers /healthz, and nothing of the partial uploads is left on disk.
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { createTenant, signUp } from '../api/harness.ts';
import { startApiProcess, type ApiProcess } from '../helpers/api-process.ts';
import { sendRaw, type RawRequest } from '../helpers/raw-http.ts';
import { documentSettings, filesBelow } from './harness.ts';

interface Context {
  api: ApiProcess;
  blobDir: string;
  headers: Record<string, string>;
}

const test = anyTest as TestFn<Context>;

const B = 'quarry-boundary';
const filePart = (filename: string) =>
  `--${B}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/plain\r\n\r\n`;
const fieldPart = (name: string, value: string) =>
  `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const large = 'x'.repeat(512 * 1024);

/** Bodies that end too soon, each sent with a Content-Length that matches what is sent. */
const TRUNCATED: Record<string, string> = {
  'inside the file content': `${filePart('t.txt')}abc`,
  'inside a large file content': `${filePart('big.txt')}${large}`,
  'inside the part headers': `--${B}\r\nContent-Disposition: form-data; name="file"; filena`,
  'right after the first boundary': `--${B}\r\n`,
  'inside the first boundary': `--${B.slice(0, 5)}`,
  'inside the closing boundary': `${filePart('t.txt')}abc\r\n--${B}-`,
  'after a field, before the file': fieldPart('title', 'Half'),
  'inside a field value': `--${B}\r\nContent-Disposition: form-data; name="title"\r\n\r\nHal`,
  'inside a second file part': `${filePart('a.txt')}abc\r\n${filePart('b.txt')}def`,
  'after the file part, no closing boundary': `${filePart('t.txt')}abc\r\n`,
  'with only a preamble': 'just some preamble bytes',
  empty: '',
};

test.before(async (t) => {
  const settings = documentSettings();
  t.context.blobDir = settings.BLOB_DIR!;
  t.context.api = await startApiProcess(settings);
  const account = await signUp(t.context.api, 'truncation');
  const tenantId = await createTenant(t.context.api, account.token);
  t.context.headers = {
    authorization: `Bearer ${account.token}`,
    'x-tenant-id': tenantId,
    'content-type': `multipart/form-data; boundary=${B}`,
  };
});

test.after.always(async (t) => {
  await t.context.api?.stop();
});

function upload(t: { context: Context }, body: string, extra: Partial<RawRequest> = {}, headers = {}) {
  return sendRaw(t.context.api.url, {
    method: 'POST',
    path: '/v1/documents',
    headers: { ...t.context.headers, 'content-length': String(Buffer.byteLength(body)), ...headers },
    body,
    ...extra,
  });
}

async function assertHealthy(t: ExecutionContext<Context>, variant: string) {
  t.true(t.context.api.alive(), `the API process died after "${variant}": ${t.context.api.stderr()}`);
  const health = await fetch(`${t.context.api.url}/healthz`);
  t.is(health.status, 200, `healthz after "${variant}"`);
}

for (const [variant, body] of Object.entries(TRUNCATED)) {
  test.serial(`a body that ends ${variant} is 400 and the process lives on`, async (t) => {
    const reply = await upload(t, body);
    t.is(reply.status, 400, `${reply.head}\n${t.context.api.stderr()}`);
    t.regex(reply.body, /"code":"(invalid_multipart|validation_failed)"/);
    await assertHealthy(t, variant);
  });

  test.serial(`a chunked body that ends ${variant} is 400 and the process lives on`, async (t) => {
    const chunked = body ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : '0\r\n\r\n';
    const { 'content-length': _, ...headers } = { ...t.context.headers, 'content-length': '' };
    const reply = await sendRaw(t.context.api.url, {
      method: 'POST',
      path: '/v1/documents',
      headers: { ...headers, 'transfer-encoding': 'chunked' },
      body: chunked,
    });
    t.is(reply.status, 400, reply.head);
    await assertHealthy(t, `${variant} (chunked)`);
  });
}

test.serial('a body shorter than its Content-Length, then a half-close, leaves the process alive', async (t) => {
  for (const [variant, body] of Object.entries(TRUNCATED)) {
    const reply = await upload(t, body, { then: 'end' }, { 'content-length': String(Buffer.byteLength(body) + 1000) });
    // The client ended its side: the server may answer 400 or just close.
    t.true(reply.status === null || reply.status === 400, `${variant}: ${reply.head}`);
    await assertHealthy(t, `${variant} (short of Content-Length)`);
  }
});

test.serial('a connection dropped mid-upload leaves the process alive', async (t) => {
  for (const [variant, body] of Object.entries(TRUNCATED)) {
    await upload(t, body, { then: 'destroy' }, { 'content-length': String(Buffer.byteLength(body) + 1000) });
    await assertHealthy(t, `${variant} (dropped)`);
  }
});

test.serial('nothing of the cut-short uploads is left in the blob store', async (t) => {
  // A dropped connection is noticed by the server asynchronously: give it a moment.
  let left: string[] = [];
  for (let attempt = 0; attempt < 50; attempt += 1) {
    left = await filesBelow(t.context.blobDir);
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.deepEqual(left, []);
});
