// docker-compose.yml cannot be run here (no Docker engine), so this checks its wiring against
// the code: the services, health checks and start order, every setting config.ts needs, the
// migrate job's plan, the search attributes it registers, and the image the services build.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import test from 'ava';
import { parse } from 'yaml';
import { CONFIG_KEYS, loadConfig, projectRoot, REQUIRED_IN_PRODUCTION } from '../config.ts';
import { APP_ROLE, OWNER_ROLE } from '../scripts/lib/bootstrap.ts';
import {
  addSearchAttributesRequest,
  registerSearchAttributes,
  SearchAttributeConflictError,
} from '../scripts/lib/search-attributes.ts';
import { planMigration, SEARCH_ATTRIBUTES_FLAG } from '../scripts/migrate.ts';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes.ts';
import { testConfig } from './helpers/stack.ts';

interface Service {
  readonly image?: string;
  readonly build?: { readonly context: string; readonly dockerfile?: string };
  readonly command?: readonly string[];
  readonly restart?: string;
  readonly environment?: Record<string, string | number | boolean | null> | readonly string[];
  readonly depends_on?: Record<string, { readonly condition: string }>;
  readonly healthcheck?: { readonly test?: readonly string[]; readonly disable?: boolean };
  readonly ports?: readonly string[];
  readonly volumes?: readonly string[];
}

/** Compose's variable substitution with an empty shell environment: `${X:-default}` takes the default. */
function interpolate(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (match, name, op, arg) => {
      if (match === '$$') return '$';
      if (op === ':-' || op === '-') return arg as string;
      throw new Error(`docker-compose.yml needs ${name as string} from the environment (${match})`);
    });
  }
  if (Array.isArray(value)) return value.map(interpolate);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item)]));
  }
  return value;
}

const composeFile = readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8');
const compose = interpolate(parse(composeFile, { merge: true })) as { services: Record<string, Service> };
const services = compose.services;
const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');

function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  const entries = Array.isArray(env)
    ? (env as readonly string[]).map((line) => line.split(/=(.*)/s).slice(0, 2))
    : Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]);
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Services that others wait on to complete: jobs that run once and exit. */
const oneShots = new Set(
  Object.values(services).flatMap((each) =>
    Object.entries(each.depends_on ?? {})
      .filter(([, dependency]) => dependency.condition === 'service_completed_successfully')
      .map(([name]) => name),
  ),
);
const APP_SERVICES = ['api', 'worker'] as const;
const IMAGE_SERVICES = ['migrate', ...APP_SERVICES] as const;

test('defines postgres, temporal, temporal-ui, migrate, api and worker', (t) => {
  for (const name of ['postgres', 'temporal', 'temporal-ui', 'migrate', 'api', 'worker']) {
    t.truthy(services[name], `service ${name}`);
  }
  t.regex(service('postgres').image ?? '', /^pgvector\/pgvector:pg1[6-9]$/);
});

test('gives every long-running service a health check, and none to the one-shot jobs', (t) => {
  t.true(oneShots.has('migrate'));
  for (const [name, each] of Object.entries(services)) {
    if (oneShots.has(name)) {
      t.is(each.restart, 'no', `${name} runs once`);
      continue;
    }
    t.false(each.healthcheck?.disable ?? false, `${name} health check`);
    t.true((each.healthcheck?.test?.length ?? 0) > 0, `${name} health check`);
  }
});

test('starts the api and worker once migrate has completed, and migrate once its services are healthy', (t) => {
  for (const name of APP_SERVICES) {
    t.deepEqual(service(name).depends_on?.migrate, { condition: 'service_completed_successfully' }, name);
  }
  t.deepEqual(service('migrate').depends_on, {
    postgres: { condition: 'service_healthy' },
    temporal: { condition: 'service_healthy' },
  });
  t.deepEqual(service('temporal-ui').depends_on?.temporal, { condition: 'service_healthy' });
});

test('gives the api and worker every setting config.ts requires in production', (t) => {
  for (const name of APP_SERVICES) {
    const env = environment(name);
    for (const key of REQUIRED_IN_PRODUCTION) t.truthy(env[key], `${name} sets ${key}`);
    t.deepEqual(
      Object.keys(env).filter((key) => !(CONFIG_KEYS as readonly string[]).includes(key)),
      [],
      `${name} sets only settings that config.ts reads`,
    );
    t.is(env.NODE_ENV, 'production', name);
    const config = loadConfig(env);
    t.is(
      decodeURIComponent(new URL(config.DATABASE_URL as string).username),
      APP_ROLE,
      `${name} logs in as ${APP_ROLE}`,
    );
    t.is(new URL(config.DATABASE_URL as string).hostname, 'postgres', name);
    t.is(config.TEMPORAL_ADDRESS, 'temporal:7233', name);
    t.true(
      (service(name).volumes ?? []).some((volume) => volume.endsWith(`:${config.BLOB_DIR}`)),
      `${name} keeps blobs on a volume`,
    );
  }
  t.deepEqual(environment('api'), { ...environment('worker'), API_HOST: '0.0.0.0', API_PORT: '3000' });
  t.true((service('api').ports ?? []).includes('3000:3000'));
});

test('has migrate bootstrap the roles the api and worker log in with, migrate, and register search attributes', (t) => {
  const env = environment('migrate');
  t.deepEqual(
    Object.keys(env).filter((key) => !(CONFIG_KEYS as readonly string[]).includes(key)),
    [],
    'migrate sets only settings that config.ts reads',
  );
  const command = service('migrate').command ?? [];
  const script = command.indexOf('scripts/migrate.ts');
  t.true(script >= 0, 'migrate runs scripts/migrate.ts');
  t.true(command.includes(SEARCH_ATTRIBUTES_FLAG));

  const plan = planMigration(loadConfig(env), command.slice(script + 1));
  const app = new URL(environment('api').DATABASE_URL ?? '');
  const superuser = new URL(plan.bootstrap?.superuserUrl ?? '');
  t.is(superuser.hostname, 'postgres');
  t.is<string | undefined, string | undefined>(
    decodeURIComponent(superuser.password),
    environment('postgres').POSTGRES_PASSWORD,
  );
  t.is(plan.bootstrap?.database, app.pathname.slice(1));
  t.is(plan.bootstrap?.appPassword, decodeURIComponent(app.password), 'the password the api logs in with');
  t.is(decodeURIComponent(new URL(plan.migrationUrl ?? '').username), OWNER_ROLE);
  t.not(plan.bootstrap?.ownerPassword, plan.bootstrap?.appPassword);
  t.deepEqual(plan.searchAttributes, {
    address: environment('api').TEMPORAL_ADDRESS,
    namespace: environment('api').TEMPORAL_NAMESPACE,
  });
});

test('persists temporal to the postgres service and serves the web ui on 8233', (t) => {
  const env = environment('temporal');
  t.is(env.DB, 'postgres12');
  t.is(env.POSTGRES_SEEDS, 'postgres');
  t.is(env.POSTGRES_PWD, environment('postgres').POSTGRES_PASSWORD);
  t.is(environment('temporal-ui').TEMPORAL_ADDRESS, 'temporal:7233');
  t.true((service('temporal-ui').ports ?? []).includes('8233:8080'));
});

test('builds migrate, api and worker from the project Dockerfile on Node 24, run as a non-root user', (t) => {
  for (const name of IMAGE_SERVICES) {
    const { build } = service(name);
    t.is(build?.context, '.', name);
    t.is(build?.dockerfile ?? 'Dockerfile', 'Dockerfile', name);
    const { command = [], healthcheck } = service(name);
    for (const file of [...command, ...(healthcheck?.test ?? [])].filter((arg) => arg.endsWith('.ts'))) {
      t.true(existsSync(path.join(projectRoot, file)), `${name} runs ${file}, which exists`);
    }
  }
  t.is(service('api').command?.at(-1), 'api/server.ts');
  t.is(service('worker').command?.at(-1), 'worker.ts');

  const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
  t.true(bases.length > 0);
  for (const base of bases) t.regex(base ?? '', /^node:24(-slim)?$/);
  const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((match) => match[1]);
  t.true(users.length > 0 && users.at(-1) !== 'root', 'the image runs as a non-root user');
});

test('asks Temporal for every search attribute the workflows set, with its type', (t) => {
  const { IndexedValueType } = proto.temporal.api.enums.v1;
  const byName = {
    Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    Text: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
    Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  };
  t.deepEqual(addSearchAttributesRequest('default'), {
    namespace: 'default',
    searchAttributes: Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, byName[type]])),
  });
  t.true(['TenantId', 'JobKind', 'JobStatus'].every((name) => name in SEARCH_ATTRIBUTES));
});

test('creates a missing namespace and registers the search attributes on it, once', async (t) => {
  const address = testConfig().TEMPORAL_ADDRESS as string;
  const namespace = `compose-test-${randomUUID().slice(0, 8)}`;

  const first = await registerSearchAttributes({ address, namespace });
  t.deepEqual(first, { namespaceCreated: true, added: Object.keys(SEARCH_ATTRIBUTES), existing: [] });
  const again = await registerSearchAttributes({ address, namespace });
  t.deepEqual(again, { namespaceCreated: false, added: [], existing: Object.keys(SEARCH_ATTRIBUTES) });

  const connection = await Connection.connect({ address });
  t.teardown(() => connection.close());
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  t.like(customAttributes, addSearchAttributesRequest(namespace).searchAttributes ?? {});

  const error = await t.throwsAsync(registerSearchAttributes({ address, namespace, attributes: { TenantId: 'Int' } }), {
    instanceOf: SearchAttributeConflictError,
  });
  t.deepEqual(error.conflicts, ['TenantId']);
});
