// The only reader of process.env. Every setting has its default in one literal below;
// the environment is spread over it and the whole is validated once by zod.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { TASK_QUEUES } from './contract/jobs.ts';
import { ALL_MINILM_L6_V2, ONNX_MODELS } from './rag/embed/onnx-models.ts';

export const projectRoot = path.dirname(fileURLToPath(import.meta.url));
const localDir = path.join(projectRoot, '.local');

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
/** A poller count: 'autoscaling', or a fixed maximum (at least 2: a sticky and a normal poll). */
const pollers = z.union([z.literal('autoscaling'), z.coerce.number().int().min(2)]);
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional());
/** A 256-bit key, written in base64 or base64url. */
const encryptionKey = z
  .string()
  .refine((v) => /^[A-Za-z0-9+/_-]{43}=?$/.test(v) && Buffer.from(v, 'base64').length === 32, {
    message: 'must be 32 bytes in base64 (openssl rand -base64 32)',
  });

/**
 * A Cloud Pub/Sub topic's full name, projects/<project>/topics/<topic>: a project id (6 to 30
 * lowercase letters, digits and hyphens, beginning with a letter; a legacy domain-scoped one
 * prefixed with its domain and a colon) and a topic id (3 to 255 letters, digits and `-._~%+`,
 * beginning with a letter and not with `goog`), as Pub/Sub names them.
 */
const pubSubTopic = z
  .string()
  .regex(
    /^projects\/(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/(?!goog)[A-Za-z][A-Za-z0-9._~%+-]{2,254}$/,
    {
      message: 'must be a Cloud Pub/Sub topic name: projects/<project>/topics/<topic>',
    },
  );

/** The model each provider embeds with when EMBEDDING_MODEL is not set. */
const DEFAULT_EMBEDDING_MODELS: Record<string, string> = {
  onnx: ALL_MINILM_L6_V2.name,
  hash: 'quarry-hash-384',
  local: 'quarry-hash-384',
};

const ConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),

  // PostgreSQL. DATABASE_URL is the app role (NOSUPERUSER NOBYPASSRLS, owns no table);
  // MIGRATION_DATABASE_URL is the schema owner that runs migrations.
  DATABASE_URL: optionalUrl,
  MIGRATION_DATABASE_URL: optionalUrl,
  // Optional bootstrap for `npm run migrate` against an external server: a superuser URL and
  // the passwords to give the quarry_owner and quarry_app roles it creates.
  DATABASE_SUPERUSER_URL: optionalUrl,
  QUARRY_OWNER_PASSWORD: z.string().min(1).optional(),
  QUARRY_APP_PASSWORD: z.string().min(1).optional(),
  DATABASE_POOL_SIZE: positiveInt,
  QUARRY_PG_PORT: port,

  // Temporal.
  TEMPORAL_ADDRESS: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  TEMPORAL_NAMESPACE: z.string().min(1),
  TEMPORAL_PORT: port,
  TEMPORAL_UI_PORT: port,

  // HTTP API.
  API_HOST: z.string().min(1),
  API_PORT: port,
  BODY_LIMIT_BYTES: positiveInt,
  UPLOAD_LIMIT_BYTES: positiveInt,
  // How long an upload waits for the ingestion workflow to write its row before answering
  // 202 Accepted with the document's id and a Location to poll.
  UPLOAD_REGISTER_WAIT_SECONDS: positiveInt,
  // GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; without it, 404.
  METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16).optional()),

  // Auth.
  JWT_SECRET: z.string().min(32).optional(),
  JWT_TTL_SECONDS: positiveInt,
  LOGIN_MAX_FAILURES: positiveInt,
  LOGIN_WINDOW_SECONDS: positiveInt,

  // Maintenance schedule. What it removes (the retention) is fixed in the database, not here.
  MAINTENANCE_INTERVAL_MINUTES: positiveInt,
  // Blobs that no document owns are removed once left alone this long (an upload in flight is
  // younger; an ingestion run still open keeps its blobs whatever their age).
  ORPHAN_BLOB_GRACE_MINUTES: z.coerce.number().int().min(0),

  // Storage and providers.
  QUARRY_LOCAL_DIR: z.string().min(1),
  BLOB_DIR: z.string().min(1),
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_API_KEY: z.string().optional(),
  // The embedder: 'onnx' (a local neural model, run in a thread; the default), 'hash' (hashed
  // n-grams: fast, not semantic; 'local' is its former name) or 'openai' (any OpenAI-compatible
  // endpoint). EMBEDDING_MODEL defaults by provider; vectors are stored with it, so changing it
  // calls for the re-embed job (POST /v1/documents/reembed).
  EMBEDDING_PROVIDER: z.preprocess((v) => (v === 'local' ? 'hash' : v), z.enum(['onnx', 'hash', 'openai'])),
  EMBEDDING_MODEL: z.string().min(1),
  EMBEDDING_DIMENSIONS: positiveInt,
  // The ONNX embedder: where its model files are (`<dir>/<model>/`, installed by the toolchain
  // or `npm run install:model`), the threads one inference uses, and the (estimated) tokens of
  // texts run together.
  EMBEDDING_MODEL_DIR: z.string().min(1),
  EMBEDDING_THREADS: positiveInt,
  EMBEDDING_BATCH_TOKENS: positiveInt,
  CHAT_MODEL: z.string().min(1),
  // The lexical leg's BM25: term-frequency saturation and length normalisation.
  BM25_K1: z.coerce.number().min(0).max(10),
  BM25_B: z.coerce.number().min(0).max(1),
  // How hybrid search fuses its legs, and the dense leg's weight in a convex fusion.
  HYBRID_FUSION: z.enum(['convex', 'rrf']),
  HYBRID_DENSE_WEIGHT: z.coerce.number().min(0).max(1),
  CHUNK_SIZE: positiveInt,
  CHUNK_OVERLAP: z.coerce.number().int().min(0),

  // The platform's task queue (maintenance and other bookkeeping jobs).
  PLATFORM_TASK_QUEUE: z.string().min(1),

  // Ingestion: its task queue, chunks per embedding activity, and how long any of its steps
  // may stay silent (no heartbeat) before its worker is taken for lost and the step retried.
  INGESTION_TASK_QUEUE: z.string().min(1),
  EMBED_BATCH_SIZE: positiveInt,
  INGESTION_HEARTBEAT_TIMEOUT_SECONDS: positiveInt,
  // Originals of up to this many bytes are built in one activity (extract → chunk → embed →
  // activate, activities/documents/build.ts), larger ones step by step; 0 builds every document
  // step by step.
  INGESTION_ONE_STEP_MAX_BYTES: z.coerce.number().int().min(0),
  // The most files one POST /v1/documents/batch may hold.
  BATCH_UPLOAD_MAX_FILES: z.coerce.number().int().min(1).max(1000),
  // Readiness of the workers (GET /readyz/workers): a task queue counts as polled while a poller
  // started a poll within this many seconds. A live, idle worker re-polls each time Temporal's
  // long poll ends (a minute by default), so this must exceed that.
  WORKER_POLL_STALE_SECONDS: positiveInt,

  // Sizing of each worker process (worker.ts), per task queue it polls: how many workflow tasks
  // and activities it runs at once, and its polls for each ('autoscaling' between 1 and 100 on
  // the server's backlog hints, or a fixed maximum).
  WORKER_WORKFLOW_TASK_SLOTS: z.coerce.number().int().min(2),
  WORKER_ACTIVITY_TASK_SLOTS: positiveInt,
  WORKER_WORKFLOW_TASK_POLLERS: pollers,
  WORKER_ACTIVITY_TASK_POLLERS: pollers,

  // Extraction bounds (rag/extract/limits.ts): what one document may yield, inflate to, nest
  // and hold; and the memory, time and parallelism of the worker thread each extraction runs in.
  EXTRACT_MAX_TEXT_BYTES: positiveInt,
  EXTRACT_MAX_SECTIONS: positiveInt,
  EXTRACT_MAX_ARCHIVE_BYTES: positiveInt,
  EXTRACT_MAX_NESTING_DEPTH: positiveInt,
  EXTRACT_MAX_MAIL_PARTS: positiveInt,
  EXTRACT_HEAP_MB: z.coerce.number().int().min(64),
  EXTRACT_TIMEOUT_SECONDS: positiveInt,
  EXTRACT_CONCURRENCY: positiveInt,
  MAX_CHUNKS_PER_DOCUMENT: positiveInt,

  // --- Gmail connections (issue 11) ---
  // OAuth tokens and PKCE code verifiers are sealed with AES-256-GCM under TOKEN_ENCRYPTION_KEY
  // (32 bytes, base64 or base64url; required in production). TOKEN_ENCRYPTION_PREVIOUS_KEYS
  // (comma-separated, same format) still open what older keys sealed, until
  // `npm run rotate-token-key` has re-sealed everything under the current one.
  TOKEN_ENCRYPTION_KEY: z.preprocess((v) => (v === '' ? undefined : v), encryptionKey.optional()),
  TOKEN_ENCRYPTION_PREVIOUS_KEYS: z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((key) => key.trim())
            .filter(Boolean)
        : v,
    z.array(encryptionKey),
  ),
  // The Google OAuth web client. Without a client id the mail connection routes answer 501
  // mail_not_configured. The redirect URI must be registered with the client, and lead to
  // GET /v1/mail/oauth/callback of this API.
  GOOGLE_OAUTH_CLIENT_ID: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional()),
  GOOGLE_OAUTH_CLIENT_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional()),
  GOOGLE_OAUTH_REDIRECT_URI: optionalUrl,
  // Google's endpoints and the Gmail API root: Google's own by default; tests and the offline
  // demo point them at a stand-in server.
  GOOGLE_AUTH_URL: z.string().url(),
  GOOGLE_TOKEN_URL: z.string().url(),
  GOOGLE_REVOKE_URL: z.string().url(),
  GMAIL_API_ROOT: z.string().url(),
  // How long a started connection (its state and code verifier) may wait for Google's redirect.
  MAIL_OAUTH_SESSION_TTL_SECONDS: positiveInt,
  // The mailbox workflow: how long it waits between incremental syncs (a durable timer; a
  // syncNow signal or POST /v1/mail/accounts/:id/sync starts one sooner), the message ids one
  // messages.list page asks for, the messages one batch activity fetches and stores, and how
  // many of a batch's messages it fetches from Gmail at once.
  MAIL_SYNC_INTERVAL_SECONDS: positiveInt,
  MAIL_LIST_PAGE_SIZE: z.coerce.number().int().min(1).max(500),
  MAIL_BATCH_SIZE: z.coerce.number().int().min(1).max(500),
  MAIL_FETCH_CONCURRENCY: z.coerce.number().int().min(1).max(50),
  // Steps (activities) one run of a mailbox workflow schedules before it continues as new, so
  // that its history stays far below Temporal's limits (some six events a step).
  MAIL_STEPS_PER_RUN: z.coerce.number().int().min(4).max(1500),
  // Gmail push notifications (POST /v1/mail/push, from a Cloud Pub/Sub push subscription on the
  // Gmail watch topic). Google signs each push with an OIDC ID token whose audience is the one
  // set on the subscription and whose email is the subscription's service account: both are
  // required to turn push on (without them /v1/mail/push answers 404 mail_push_not_configured).
  // The certificates the tokens are checked against are Google's (PEM, as
  // https://www.googleapis.com/oauth2/v1/certs serves them); tests point them at a stand-in.
  MAIL_PUSH_AUDIENCE: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).max(2000).optional()),
  MAIL_PUSH_SERVICE_ACCOUNT: z.preprocess((v) => (v === '' ? undefined : v), z.email().optional()),
  MAIL_PUSH_CERTS_URL: z.string().url(),
  // The Cloud Pub/Sub topic Gmail publishes a mailbox's changes to: with it, the mailbox workflow
  // asks Gmail to (users.watch) once the account's first full sync is done, and renews that daily.
  // The topic, Gmail's right to publish on it and the push subscription are set up at Google.
  MAIL_PUSH_TOPIC: z.preprocess((v) => (v === '' ? undefined : v), pubSubTopic.optional()),
  // --- end of Gmail connections ---
});

/** A local ONNX model must be one Quarry pins, at its own dimension. */
function checkOnnxModel(config: z.infer<typeof ConfigSchema>): string[] {
  if (config.EMBEDDING_PROVIDER !== 'onnx') return [];
  const spec = ONNX_MODELS[config.EMBEDDING_MODEL];
  if (!spec) {
    const known = Object.keys(ONNX_MODELS).join(', ');
    return [`EMBEDDING_MODEL: ${config.EMBEDDING_MODEL} is not a local ONNX model (known: ${known})`];
  }
  if (config.EMBEDDING_DIMENSIONS !== spec.dimensions) {
    return [`EMBEDDING_DIMENSIONS: ${spec.name} makes ${spec.dimensions}-dimensional vectors`];
  }
  return [];
}

/** A Google OAuth client is a client id with its secret and a redirect URI, or nothing. */
function checkGoogleClient(config: z.infer<typeof ConfigSchema>): string[] {
  if (config.GOOGLE_OAUTH_CLIENT_ID === undefined) return [];
  return (['GOOGLE_OAUTH_CLIENT_SECRET', 'GOOGLE_OAUTH_REDIRECT_URI'] as const)
    .filter((key) => config[key] === undefined)
    .map((key) => `${key}: required with GOOGLE_OAUTH_CLIENT_ID`);
}

/** Push is on with both its audience and its service account, and off with neither. */
function checkMailPush(config: z.infer<typeof ConfigSchema>): string[] {
  if ((config.MAIL_PUSH_AUDIENCE === undefined) === (config.MAIL_PUSH_SERVICE_ACCOUNT === undefined)) return [];
  return config.MAIL_PUSH_AUDIENCE === undefined
    ? ['MAIL_PUSH_AUDIENCE: required with MAIL_PUSH_SERVICE_ACCOUNT']
    : ['MAIL_PUSH_SERVICE_ACCOUNT: required with MAIL_PUSH_AUDIENCE'];
}

export type Config = z.infer<typeof ConfigSchema>;

/** Every setting config.ts reads from the environment. */
export const CONFIG_KEYS = Object.keys(ConfigSchema.shape) as (keyof Config)[];

/** Settings with no default that the API and worker must be given when NODE_ENV is production. */
export const REQUIRED_IN_PRODUCTION = [
  'DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'JWT_SECRET',
  'TOKEN_ENCRYPTION_KEY',
] as const satisfies readonly (keyof Config)[];

const defaults = {
  NODE_ENV: 'development',
  LOG_LEVEL: 'info',
  DATABASE_POOL_SIZE: 10,
  QUARRY_PG_PORT: 54329,
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_PORT: 7233,
  TEMPORAL_UI_PORT: 8233,
  API_HOST: '127.0.0.1',
  API_PORT: 3000,
  BODY_LIMIT_BYTES: 1024 * 1024,
  UPLOAD_LIMIT_BYTES: 50 * 1024 * 1024,
  UPLOAD_REGISTER_WAIT_SECONDS: 10,
  JWT_TTL_SECONDS: 900,
  LOGIN_MAX_FAILURES: 5,
  LOGIN_WINDOW_SECONDS: 900,
  MAINTENANCE_INTERVAL_MINUTES: 60,
  ORPHAN_BLOB_GRACE_MINUTES: 60,
  QUARRY_LOCAL_DIR: localDir,
  BLOB_DIR: path.join(localDir, 'blobs'),
  EMBEDDING_PROVIDER: 'onnx',
  EMBEDDING_DIMENSIONS: 384,
  EMBEDDING_MODEL_DIR: path.join(localDir, 'models'),
  // Every core, up to 4 (the pool's threads sleep when idle): on 2 busy cores two threads
  // embedded 256-token passages 1.1-1.8x as fast as one (bench:ingest).
  EMBEDDING_THREADS: Math.min(4, availableParallelism()),
  EMBEDDING_BATCH_TOKENS: 256,
  CHAT_MODEL: 'gpt-4o-mini',
  // Anserini's settings, those of BEIR's published BM25 figures.
  BM25_K1: 0.9,
  BM25_B: 0.4,
  HYBRID_FUSION: 'convex',
  HYBRID_DENSE_WEIGHT: 0.5,
  CHUNK_SIZE: 1000,
  CHUNK_OVERLAP: 150,
  PLATFORM_TASK_QUEUE: TASK_QUEUES.platform,
  INGESTION_TASK_QUEUE: TASK_QUEUES.ingestion,
  EMBED_BATCH_SIZE: 128,
  INGESTION_HEARTBEAT_TIMEOUT_SECONDS: 10,
  INGESTION_ONE_STEP_MAX_BYTES: 64 * 1024,
  BATCH_UPLOAD_MAX_FILES: 100,
  WORKER_POLL_STALE_SECONDS: 70,
  WORKER_WORKFLOW_TASK_SLOTS: 40,
  WORKER_ACTIVITY_TASK_SLOTS: 100,
  WORKER_WORKFLOW_TASK_POLLERS: 'autoscaling',
  WORKER_ACTIVITY_TASK_POLLERS: 'autoscaling',
  EXTRACT_MAX_TEXT_BYTES: 64 * 1024 * 1024,
  EXTRACT_MAX_SECTIONS: 20_000,
  EXTRACT_MAX_ARCHIVE_BYTES: 256 * 1024 * 1024,
  EXTRACT_MAX_NESTING_DEPTH: 512,
  EXTRACT_MAX_MAIL_PARTS: 1000,
  EXTRACT_HEAP_MB: 512,
  EXTRACT_TIMEOUT_SECONDS: 120,
  EXTRACT_CONCURRENCY: 2,
  MAX_CHUNKS_PER_DOCUMENT: 20_000,
  // --- Gmail connections (issue 11) ---
  TOKEN_ENCRYPTION_PREVIOUS_KEYS: '',
  GOOGLE_AUTH_URL: 'https://accounts.google.com/o/oauth2/v2/auth',
  GOOGLE_TOKEN_URL: 'https://oauth2.googleapis.com/token',
  GOOGLE_REVOKE_URL: 'https://oauth2.googleapis.com/revoke',
  GMAIL_API_ROOT: 'https://gmail.googleapis.com/',
  MAIL_OAUTH_SESSION_TTL_SECONDS: 600,
  MAIL_SYNC_INTERVAL_SECONDS: 300,
  MAIL_LIST_PAGE_SIZE: 500,
  MAIL_BATCH_SIZE: 100,
  MAIL_FETCH_CONCURRENCY: 8,
  MAIL_STEPS_PER_RUN: 500,
  MAIL_PUSH_CERTS_URL: 'https://www.googleapis.com/oauth2/v1/certs',
  // --- end of Gmail connections ---
} satisfies Partial<Record<keyof Config, unknown>>;

/**
 * Where the API, the worker and their health checks reach Temporal: TEMPORAL_ADDRESS, or else the
 * embedded dev server on this machine (TEMPORAL_PORT). TEMPORAL_ADDRESS itself has no default,
 * because unset it tells the launchers to start that dev server.
 */
export function temporalAddressOf(config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_PORT'>): string {
  return config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
}

/** Thrown when the environment holds a setting that does not validate. */
export class ConfigurationError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigurationError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = Object.fromEntries(CONFIG_KEYS.filter((key) => env[key] !== undefined).map((key) => [key, env[key]]));
  const input: Record<string, unknown> = { ...defaults, ...known };
  input.EMBEDDING_MODEL ??= DEFAULT_EMBEDDING_MODELS[String(input.EMBEDDING_PROVIDER)];
  if (input.EMBEDDING_MODEL === undefined) {
    throw new ConfigurationError([
      `EMBEDDING_MODEL: required with EMBEDDING_PROVIDER=${String(input.EMBEDDING_PROVIDER)}`,
    ]);
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigurationError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const embedding = checkOnnxModel(parsed.data);
  if (embedding.length) throw new ConfigurationError(embedding);
  const google = checkGoogleClient(parsed.data);
  if (google.length) throw new ConfigurationError(google);
  const push = checkMailPush(parsed.data);
  if (push.length) throw new ConfigurationError(push);
  if (parsed.data.NODE_ENV === 'production') {
    const missing = REQUIRED_IN_PRODUCTION.filter((key) => parsed.data[key] === undefined);
    if (missing.length) throw new ConfigurationError(missing.map((key) => `${key}: required in production`));
  }
  return parsed.data;
}
