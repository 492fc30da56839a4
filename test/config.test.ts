// config.ts, the only reader of the environment: the one default address of Temporal.
import test from 'ava';
import { loadConfig, temporalAddressOf } from '../config.ts';

test('reaches Temporal at TEMPORAL_ADDRESS when it is set', (t) => {
  t.is(temporalAddressOf(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_PORT: '7300' })), 'temporal:7233');
});

test('reaches the embedded dev server on this machine when TEMPORAL_ADDRESS is unset or empty', (t) => {
  t.is(temporalAddressOf(loadConfig({})), '127.0.0.1:7233');
  t.is(temporalAddressOf(loadConfig({ TEMPORAL_ADDRESS: '' })), '127.0.0.1:7233');
  t.is(temporalAddressOf(loadConfig({ TEMPORAL_PORT: '7300' })), '127.0.0.1:7300');
});

test('BM25 parameters default to Anserini’s and refuse values outside their range, naming the setting', (t) => {
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash' }), { BM25_K1: 0.9, BM25_B: 0.4 });
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash', BM25_K1: '1.2', BM25_B: '0.75' }), { BM25_K1: 1.2, BM25_B: 0.75 });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', BM25_B: '1.5' }), { message: /BM25_B/ });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', BM25_K1: '-1' }), { message: /BM25_K1/ });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', BM25_K1: 'many' }), { message: /BM25_K1/ });
});

test('hybrid fusion defaults to an equal-weight convex combination and takes rrf', (t) => {
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash' }), { HYBRID_FUSION: 'convex', HYBRID_DENSE_WEIGHT: 0.5 });
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash', HYBRID_FUSION: 'rrf' }), { HYBRID_FUSION: 'rrf' });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', HYBRID_FUSION: 'max' }), { message: /HYBRID_FUSION/ });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', HYBRID_DENSE_WEIGHT: '1.1' }), {
    message: /HYBRID_DENSE_WEIGHT/,
  });
});

const KEY = Buffer.alloc(32, 7).toString('base64');

test('mail settings default to Google’s endpoints and take a stand-in’s', (t) => {
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash' }), {
    GOOGLE_AUTH_URL: 'https://accounts.google.com/o/oauth2/v2/auth',
    GOOGLE_TOKEN_URL: 'https://oauth2.googleapis.com/token',
    GOOGLE_REVOKE_URL: 'https://oauth2.googleapis.com/revoke',
    GMAIL_API_ROOT: 'https://gmail.googleapis.com/',
    GOOGLE_OAUTH_CLIENT_ID: undefined,
    TOKEN_ENCRYPTION_KEY: undefined,
    TOKEN_ENCRYPTION_PREVIOUS_KEYS: [],
    MAIL_OAUTH_SESSION_TTL_SECONDS: 600,
  });
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash', GOOGLE_TOKEN_URL: 'http://127.0.0.1:9/token' }), {
    GOOGLE_TOKEN_URL: 'http://127.0.0.1:9/token',
  });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', GMAIL_API_ROOT: 'not a url' }), {
    message: /GMAIL_API_ROOT/,
  });
});

test('the mailbox workflow syncs every 5 minutes in batches of 100 by default, within Gmail’s page limit', (t) => {
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash' }), {
    MAIL_SYNC_INTERVAL_SECONDS: 300,
    MAIL_LIST_PAGE_SIZE: 500,
    MAIL_BATCH_SIZE: 100,
    MAIL_FETCH_CONCURRENCY: 8,
    MAIL_STEPS_PER_RUN: 500,
  });
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash', MAIL_SYNC_INTERVAL_SECONDS: '30', MAIL_BATCH_SIZE: '10' }), {
    MAIL_SYNC_INTERVAL_SECONDS: 30,
    MAIL_BATCH_SIZE: 10,
  });
  for (const [key, value] of [
    ['MAIL_SYNC_INTERVAL_SECONDS', '0'],
    ['MAIL_LIST_PAGE_SIZE', '501'],
    ['MAIL_BATCH_SIZE', '0'],
    ['MAIL_FETCH_CONCURRENCY', '51'],
    ['MAIL_STEPS_PER_RUN', '3'],
  ] as const) {
    t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', [key]: value }), { message: new RegExp(key) }, key);
  }
});

test('mail push is off by default, and on with both its audience and its service account', (t) => {
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash' }), {
    MAIL_PUSH_AUDIENCE: undefined,
    MAIL_PUSH_SERVICE_ACCOUNT: undefined,
    MAIL_PUSH_CERTS_URL: 'https://www.googleapis.com/oauth2/v1/certs',
  });
  const push = { MAIL_PUSH_AUDIENCE: 'https://quarry.test/v1/mail/push', MAIL_PUSH_SERVICE_ACCOUNT: 'push@p.iam.test' };
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash', ...push }), push);
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', MAIL_PUSH_AUDIENCE: push.MAIL_PUSH_AUDIENCE }), {
    message: /MAIL_PUSH_SERVICE_ACCOUNT: required with MAIL_PUSH_AUDIENCE/,
  });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', MAIL_PUSH_SERVICE_ACCOUNT: 'push@p.iam.test' }), {
    message: /MAIL_PUSH_AUDIENCE: required with MAIL_PUSH_SERVICE_ACCOUNT/,
  });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', ...push, MAIL_PUSH_SERVICE_ACCOUNT: 'not an email' }), {
    message: /MAIL_PUSH_SERVICE_ACCOUNT/,
  });
});

test('the Gmail push topic is optional, and a Cloud Pub/Sub topic name when set', (t) => {
  t.is(loadConfig({ EMBEDDING_PROVIDER: 'hash' }).MAIL_PUSH_TOPIC, undefined);
  t.is(loadConfig({ EMBEDDING_PROVIDER: 'hash', MAIL_PUSH_TOPIC: '' }).MAIL_PUSH_TOPIC, undefined);
  for (const topic of [
    'projects/quarry-prod/topics/gmail-push',
    'projects/example.com:quarry-1/topics/Gmail_push.v1~a%2B',
  ]) {
    t.is(loadConfig({ EMBEDDING_PROVIDER: 'hash', MAIL_PUSH_TOPIC: topic }).MAIL_PUSH_TOPIC, topic);
  }
  for (const topic of [
    'gmail-push',
    'projects/quarry-prod/subscriptions/gmail-push',
    'projects/Quarry-Prod/topics/gmail-push',
    'projects/q/topics/gmail-push',
    'projects/quarry-prod/topics/gm',
    'projects/quarry-prod/topics/1gmail',
    'projects/quarry-prod/topics/google-push',
    'projects/quarry-prod/topics/gmail/push',
  ]) {
    t.throws(
      () => loadConfig({ EMBEDDING_PROVIDER: 'hash', MAIL_PUSH_TOPIC: topic }),
      { message: /MAIL_PUSH_TOPIC: must be a Cloud Pub\/Sub topic name: projects\/<project>\/topics\/<topic>/ },
      topic,
    );
  }
});

test('a Google OAuth client id needs its secret and redirect URI', (t) => {
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', GOOGLE_OAUTH_CLIENT_ID: 'id' }), {
    message: /GOOGLE_OAUTH_CLIENT_SECRET: required with GOOGLE_OAUTH_CLIENT_ID[\s\S]*GOOGLE_OAUTH_REDIRECT_URI/,
  });
  const full = { GOOGLE_OAUTH_CLIENT_SECRET: 's', GOOGLE_OAUTH_REDIRECT_URI: 'https://q.test/v1/mail/oauth/callback' };
  t.like(loadConfig({ EMBEDDING_PROVIDER: 'hash', GOOGLE_OAUTH_CLIENT_ID: 'id', ...full }), {
    GOOGLE_OAUTH_CLIENT_ID: 'id',
  });
});

test('token encryption keys are 32 bytes in base64 or base64url, previous ones comma-separated', (t) => {
  const url = Buffer.alloc(32, 9).toString('base64url');
  t.like(
    loadConfig({
      EMBEDDING_PROVIDER: 'hash',
      TOKEN_ENCRYPTION_KEY: KEY,
      TOKEN_ENCRYPTION_PREVIOUS_KEYS: ` ${url}, ${KEY}`,
    }),
    {
      TOKEN_ENCRYPTION_KEY: KEY,
      TOKEN_ENCRYPTION_PREVIOUS_KEYS: [url, KEY],
    },
  );
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', TOKEN_ENCRYPTION_KEY: 'too-short' }), {
    message: /TOKEN_ENCRYPTION_KEY: must be 32 bytes/,
  });
  t.throws(() => loadConfig({ EMBEDDING_PROVIDER: 'hash', TOKEN_ENCRYPTION_PREVIOUS_KEYS: `${KEY},short` }), {
    message: /TOKEN_ENCRYPTION_PREVIOUS_KEYS/,
  });
});

test('TOKEN_ENCRYPTION_KEY is required in production', (t) => {
  const production = {
    NODE_ENV: 'production',
    EMBEDDING_PROVIDER: 'hash',
    DATABASE_URL: 'postgres://a@b/c',
    TEMPORAL_ADDRESS: 't:7233',
    JWT_SECRET: 'x'.repeat(32),
  };
  t.throws(() => loadConfig(production), { message: /TOKEN_ENCRYPTION_KEY: required in production/ });
  t.like(loadConfig({ ...production, TOKEN_ENCRYPTION_KEY: KEY }), { TOKEN_ENCRYPTION_KEY: KEY });
});
