// The tenant isolation suite: for every table under row-level security, two tenants A and B
// (each with its own user) and the runtime role's pool. Without a context nothing is seen or
// changed; under A's context B's rows can be neither seen, changed nor deleted; rows written
// for B from A's context, or moved from A to B, are refused by the policy (SQLSTATE 42501).
// The table list itself is checked against the catalog, so a new table without RLS, or
// without an entry here, fails the suite.
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn, type ThrowsExpectation } from 'ava';
import pg from 'pg';
import {
  CheckIntegrityConstraintViolationError,
  createPool,
  sql,
  type CommonQueryMethods,
  type DatabasePool,
  type FragmentSqlToken,
  type QuerySqlToken,
} from 'slonik';
import { createPgDriverFactory } from '@slonik/pg-driver';
import { z } from 'zod';
import { sqlStateOf } from '../activities/failures.ts';
import { createDatabasePool, createResultParserInterceptor } from '../db/pool.ts';
import { withTenant, type TenantContext } from '../db/with-tenant.ts';
import {
  addMember,
  attempt,
  contextOf,
  createJob,
  createJobEvent,
  createEmail,
  createMailAccount,
  createTenant,
  createTenantWorld,
  createUser,
  uniqueEmail,
  worldRows,
  type TenantWorld,
  type WorldTable,
} from './helpers/fixtures.ts';
import { appPool, testConfig } from './helpers/stack.ts';

interface PlatformRows {
  readonly jobId: string;
  readonly jobEventId: number;
}

interface Context {
  readonly app: DatabasePool;
  readonly a: TenantWorld;
  readonly b: TenantWorld;
  readonly platform: PlatformRows;
}

const test = anyTest as TestFn<Context>;

/** One table under row-level security: how to forge rows in it and move rows out of a tenant. */
interface RlsTable {
  readonly name: WorldTable;
  /** Platform rows (tenant_id NULL) of this table, if it has any. */
  readonly platformRows?: (platform: PlatformRows) => FragmentSqlToken;
  /** INSERTs that, run under A's context, try to write a row A may not write (B's, or nobody's). */
  readonly forgeries: (a: TenantWorld, b: TenantWorld) => readonly QuerySqlToken[];
  /** SET lists that, applied to A's rows under A's context, try to hand them to B. */
  readonly moves: (a: TenantWorld, b: TenantWorld) => readonly FragmentSqlToken[];
}

const bySerials = (ids: readonly number[]) => sql.fragment`id = ANY(${sql.array(ids, 'int8')})`;
const byUuids = (ids: readonly string[]) => sql.fragment`id = ANY(${sql.array(ids, 'uuid')})`;

const TABLES: readonly RlsTable[] = [
  {
    name: 'api_keys',
    forgeries: (a, b) => [
      sql.unsafe`
        INSERT INTO api_keys (id, tenant_id, created_by, name, prefix, key_hash, role)
        VALUES (${randomUUID()}, ${b.tenantId}, ${a.userId}, 'forged', ${`fx_${randomUUID()}`}, 'x', 'admin')
      `,
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`],
  },
  {
    name: 'audit_log',
    forgeries: (a, b) => [
      sql.unsafe`INSERT INTO audit_log (tenant_id, actor_user_id, action) VALUES (${b.tenantId}, ${a.userId}, 'forged')`,
      // An event of user B alone, written from A's context.
      sql.unsafe`INSERT INTO audit_log (tenant_id, actor_user_id, action) VALUES (NULL, ${b.userId}, 'forged')`,
    ],
    moves: (_a, b) => [
      sql.fragment`tenant_id = ${b.tenantId}`,
      sql.fragment`tenant_id = NULL, actor_user_id = ${b.userId}`,
    ],
  },
  {
    name: 'chunks',
    forgeries: (a, b) => [
      forgedChunk({ documentId: b.documentId, tenantId: b.tenantId, visibility: 'tenant', ownerUserId: b.userId }),
      // A private chunk of another user, in A's own tenant.
      forgedChunk({
        documentId: a.privateDocumentId,
        tenantId: a.tenantId,
        visibility: 'private',
        ownerUserId: b.userId,
      }),
    ],
    moves: (_a, b) => [
      sql.fragment`tenant_id = ${b.tenantId}`,
      sql.fragment`visibility = 'private', owner_user_id = ${b.userId}`,
    ],
  },
  {
    name: 'lexical_postings',
    forgeries: (a, b) => [
      // A posting in B's tenant, for B's chunk.
      forgedPosting({ tenantId: b.tenantId, chunkId: b.chunkId, privateTo: null }),
      // A posting in A's own tenant that names B's chunk: it would put B's words in A's statistics.
      forgedPosting({ tenantId: a.tenantId, chunkId: b.chunkId, privateTo: null }),
      // A posting of A's shared chunk, marked as the private chunk of another user.
      forgedPosting({ tenantId: a.tenantId, chunkId: a.chunkId, privateTo: b.userId }),
      // A posting of A's shared chunk, marked as private to A: the chunk's privacy must be copied.
      forgedPosting({ tenantId: a.tenantId, chunkId: a.chunkId, privateTo: a.userId }),
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`private_to = ${b.userId}`],
  },
  {
    name: 'lexical_stats',
    forgeries: (a, b) => [
      sql.unsafe`INSERT INTO lexical_stats (tenant_id, private_to, chunk_count, total_length) VALUES (${b.tenantId}, ${b.userId}, 1, 1)`,
      // Statistics of another user's private scope, in A's own tenant.
      sql.unsafe`INSERT INTO lexical_stats (tenant_id, private_to, chunk_count, total_length) VALUES (${a.tenantId}, ${b.userId}, 1, 1)`,
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`private_to = ${b.userId}`],
  },
  {
    name: 'conversations',
    forgeries: (a, b) => [
      forgedConversation(b.tenantId, a.userId),
      // Another user's conversation in A's own tenant.
      forgedConversation(a.tenantId, b.userId),
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`user_id = ${b.userId}`],
  },
  {
    name: 'documents',
    forgeries: (a, b) => [
      forgedDocument({ tenantId: b.tenantId, visibility: 'tenant', ownerUserId: a.userId }),
      // A private document of another user, in A's own tenant.
      forgedDocument({ tenantId: a.tenantId, visibility: 'private', ownerUserId: b.userId }),
    ],
    moves: (_a, b) => [
      sql.fragment`tenant_id = ${b.tenantId}`,
      sql.fragment`visibility = 'private', owner_user_id = ${b.userId}`,
    ],
  },
  {
    name: 'emails',
    forgeries: (a, b) => [
      forgedEmail({ accountId: b.mailAccountId, tenantId: b.tenantId, userId: b.userId }),
      // An email of another user on A's own account, in A's own tenant.
      forgedEmail({ accountId: a.mailAccountId, tenantId: a.tenantId, userId: b.userId }),
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`user_id = ${b.userId}`],
  },
  {
    name: 'email_attachments',
    forgeries: (a, b) => [
      forgedEmailAttachment({ emailId: b.emailId, tenantId: b.tenantId, userId: b.userId }),
      forgedEmailAttachment({ emailId: a.emailId, tenantId: a.tenantId, userId: b.userId }),
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`user_id = ${b.userId}`],
  },
  {
    name: 'embedding_models',
    forgeries: (_a, b) => [
      sql.unsafe`INSERT INTO embedding_models (tenant_id, model, dimensions) VALUES (${b.tenantId}, ${`forged-${randomUUID()}`}, 3)`,
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`],
  },
  {
    name: 'job_events',
    platformRows: (p) => bySerials([p.jobEventId]),
    forgeries: (a, b) => [
      sql.unsafe`INSERT INTO job_events (job_id, tenant_id, step, status) VALUES (${b.jobId}, ${b.tenantId}, 'forged', 'info')`,
      // A's own tenant id on B's job: the event would hang off another tenant's job.
      sql.unsafe`INSERT INTO job_events (job_id, tenant_id, step, status) VALUES (${b.jobId}, ${a.tenantId}, 'forged', 'info')`,
      // A platform event, without platform scope.
      sql.unsafe`INSERT INTO job_events (job_id, tenant_id, step, status) VALUES (${a.jobId}, NULL, 'forged', 'info')`,
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`job_id = ${b.jobId}`],
  },
  {
    name: 'jobs',
    platformRows: (p) => byUuids([p.jobId]),
    forgeries: (a, b) => [
      forgedJob(b.tenantId, a.userId),
      // A platform job, without platform scope.
      forgedJob(null, a.userId),
      // A job private to another user, in A's own tenant.
      forgedJob(a.tenantId, a.userId, b.userId),
    ],
    moves: (_a, b) => [
      sql.fragment`tenant_id = ${b.tenantId}`,
      sql.fragment`tenant_id = NULL`,
      sql.fragment`private_to = ${b.userId}`,
    ],
  },
  {
    name: 'mail_accounts',
    forgeries: (a, b) => [
      forgedMailAccount(b.tenantId, a.userId),
      // Another user's mail account in A's own tenant: mail is its user's alone.
      forgedMailAccount(a.tenantId, b.userId),
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`user_id = ${b.userId}`],
  },
  {
    name: 'mail_grants',
    forgeries: (a, b) => [
      // A grant for B's account.
      forgedMailGrant({ accountId: b.mailAccountId, tenantId: b.tenantId, userId: b.userId }),
      // A grant of another user on A's own account (one under A's tenant and user for B's account is
      // refused before the policy, by the primary key and the foreign key on account, tenant and user).
      forgedMailGrant({ accountId: a.mailAccountId, tenantId: a.tenantId, userId: b.userId }),
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`user_id = ${b.userId}`],
  },
  {
    name: 'mail_oauth_sessions',
    forgeries: (a, b) => [
      forgedMailSession({ accountId: b.mailAccountId, tenantId: b.tenantId, userId: b.userId }),
      forgedMailSession({ accountId: a.mailAccountId, tenantId: a.tenantId, userId: b.userId }),
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`user_id = ${b.userId}`],
  },
  {
    name: 'memberships',
    forgeries: (a, b) => [
      // A's user making itself an owner of B.
      sql.unsafe`INSERT INTO memberships (tenant_id, user_id, role) VALUES (${b.tenantId}, ${a.userId}, 'owner')`,
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`],
  },
  {
    name: 'messages',
    forgeries: (a, b) => [
      forgedMessage({ conversationId: b.conversationId, tenantId: b.tenantId, userId: b.userId }),
      // A message of another user, in A's own conversation.
      forgedMessage({ conversationId: a.conversationId, tenantId: a.tenantId, userId: b.userId }),
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`user_id = ${b.userId}`],
  },
  {
    name: 'query_log',
    forgeries: (a, b) => [
      sql.unsafe`
        INSERT INTO query_log (tenant_id, user_id, kind, mode, result_count, duration_ms)
        VALUES (${b.tenantId}, ${a.userId}, 'search', 'hybrid', 0, 0)
      `,
      // A query counted in A's tenant as asked by another user.
      sql.unsafe`
        INSERT INTO query_log (tenant_id, user_id, kind, mode, result_count, duration_ms)
        VALUES (${a.tenantId}, ${b.userId}, 'search', 'hybrid', 0, 0)
      `,
    ],
    moves: (_a, b) => [sql.fragment`tenant_id = ${b.tenantId}`, sql.fragment`user_id = ${b.userId}`],
  },
  {
    name: 'sessions',
    forgeries: (_a, b) => [
      sql.unsafe`
        INSERT INTO sessions (id, user_id, expires_at)
        VALUES (${randomUUID()}, ${b.userId}, now() + interval '1 hour')
      `,
    ],
    moves: (_a, b) => [sql.fragment`user_id = ${b.userId}`],
  },
  {
    name: 'tenants',
    forgeries: (_a, b) => [
      sql.unsafe`INSERT INTO tenants (id, name) VALUES (${randomUUID()}, 'forged')`,
      sql.unsafe`INSERT INTO tenants (id, name) VALUES (${b.tenantId}, 'forged')`,
    ],
    moves: (_a, b) => [sql.fragment`id = ${b.tenantId}`],
  },
  {
    name: 'users',
    forgeries: () => [
      sql.unsafe`INSERT INTO users (id, email, password_hash) VALUES (${randomUUID()}, ${uniqueEmail('forged')}, 'x')`,
    ],
    moves: (_a, b) => [sql.fragment`id = ${b.userId}`],
  },
];

interface ForgedRow {
  readonly tenantId: string;
  readonly visibility: 'tenant' | 'private';
  readonly ownerUserId: string;
}

function forgedDocument(row: ForgedRow): QuerySqlToken {
  const id = randomUUID();
  return sql.unsafe`
    INSERT INTO documents (id, tenant_id, owner_user_id, visibility, title, byte_size, content_sha256, blob_key, status)
    VALUES (${id}, ${row.tenantId}, ${row.ownerUserId}, ${row.visibility}, 'forged', 1,
            encode(sha256(${id}::bytea), 'hex'), ${`forged/${id}`}, 'completed')
  `;
}

function forgedChunk(row: ForgedRow & { readonly documentId: string }): QuerySqlToken {
  return sql.unsafe`
    INSERT INTO chunks (tenant_id, document_id, version, ordinal, visibility, owner_user_id, content,
                        start_offset, end_offset)
    VALUES (${row.tenantId}, ${row.documentId}, 1, ${1000 + Math.floor(Math.random() * 1_000_000)},
            ${row.visibility}, ${row.ownerUserId}, 'forged', 0, 6)
  `;
}

function forgedPosting(row: { tenantId: string; chunkId: string; privateTo: string | null }): QuerySqlToken {
  return sql.unsafe`
    INSERT INTO lexical_postings (tenant_id, ts_config, term, chunk_id, tf, length, private_to)
    VALUES (${row.tenantId}, 'english', ${`forged${randomUUID()}`}, ${row.chunkId}, 1, 1, ${row.privateTo})
  `;
}

function forgedConversation(tenantId: string, userId: string): QuerySqlToken {
  return sql.unsafe`
    INSERT INTO conversations (id, tenant_id, user_id, title) VALUES (${randomUUID()}, ${tenantId}, ${userId}, 'forged')
  `;
}

function forgedMessage(row: { conversationId: string; tenantId: string; userId: string }): QuerySqlToken {
  return sql.unsafe`
    INSERT INTO messages (id, conversation_id, tenant_id, user_id, seq, role, content)
    VALUES (${randomUUID()}, ${row.conversationId}, ${row.tenantId}, ${row.userId},
            ${1000 + Math.floor(Math.random() * 1_000_000)}, 'user', 'forged')
  `;
}

function forgedMailAccount(tenantId: string, userId: string): QuerySqlToken {
  return sql.unsafe`
    INSERT INTO mail_accounts (id, tenant_id, user_id, status) VALUES (${randomUUID()}, ${tenantId}, ${userId}, 'connecting')
  `;
}

function forgedMailGrant(row: { accountId: string; tenantId: string; userId: string }): QuerySqlToken {
  return sql.unsafe`
    INSERT INTO mail_grants (account_id, tenant_id, user_id, key_id, refresh_token_ciphertext, scopes)
    VALUES (${row.accountId}, ${row.tenantId}, ${row.userId}, '0123456789abcdef', '\\x00', '{}')
  `;
}

function forgedMailSession(row: { accountId: string; tenantId: string; userId: string }): QuerySqlToken {
  return sql.unsafe`
    INSERT INTO mail_oauth_sessions (id, tenant_id, user_id, account_id, state_hash, key_id, code_verifier_ciphertext,
                                     expires_at)
    VALUES (${randomUUID()}, ${row.tenantId}, ${row.userId}, ${row.accountId}, encode(sha256(${randomUUID()}::bytea), 'hex'),
            '0123456789abcdef', '\\x00', now() + interval '1 hour')
  `;
}

function forgedEmail(row: { accountId: string; tenantId: string; userId: string }): QuerySqlToken {
  const gmailId = randomUUID().replaceAll('-', '');
  return sql.unsafe`
    INSERT INTO emails (id, tenant_id, user_id, account_id, gmail_message_id, gmail_thread_id, is_read, is_important,
                        has_attachments, byte_size)
    VALUES (${randomUUID()}, ${row.tenantId}, ${row.userId}, ${row.accountId}, ${gmailId}, ${gmailId}, false, false,
            false, 1)
  `;
}

function forgedEmailAttachment(row: { emailId: string; tenantId: string; userId: string }): QuerySqlToken {
  return sql.unsafe`
    INSERT INTO email_attachments (id, tenant_id, user_id, email_id, ordinal, byte_size, status, skip_reason)
    VALUES (${randomUUID()}, ${row.tenantId}, ${row.userId}, ${row.emailId}, ${1000 + Math.floor(Math.random() * 1_000_000)},
            1, 'skipped', 'forged')
  `;
}

function forgedJob(tenantId: string | null, userId: string, privateTo: string | null = null): QuerySqlToken {
  const id = randomUUID();
  return sql.unsafe`
    INSERT INTO jobs (id, tenant_id, private_to, kind, subject, workflow_id, run_id, status, created_by)
    VALUES (${id}, ${tenantId}, ${privateTo}, 'maintenance', 'forged', ${`forged:${id}`}, ${id}, 'completed', ${userId})
  `;
}

/** The world's fixture rows in this table, all visible under the world's context. */
const rowsOf = (table: RlsTable, world: TenantWorld) => worldRows(world)[table.name].where;
const countOf = (table: RlsTable, world: TenantWorld) => worldRows(world)[table.name].count;

const Count = z.object({ count: z.number().int() });

function countRows(db: CommonQueryMethods, table: string, where: FragmentSqlToken): Promise<number> {
  return db.oneFirst(sql.type(Count)`SELECT count(*)::int AS count FROM ${sql.identifier([table])} WHERE ${where}`);
}

/** A column each table has, set to itself by `updateRows`: a write that changes nothing. */
const UNCHANGED_COLUMN: Record<WorldTable, string> = {
  api_keys: 'created_at',
  audit_log: 'created_at',
  chunks: 'created_at',
  conversations: 'created_at',
  documents: 'created_at',
  email_attachments: 'created_at',
  emails: 'created_at',
  embedding_models: 'first_used_at',
  job_events: 'created_at',
  jobs: 'created_at',
  lexical_postings: 'tf',
  lexical_stats: 'chunk_count',
  mail_accounts: 'created_at',
  mail_grants: 'created_at',
  mail_oauth_sessions: 'created_at',
  memberships: 'created_at',
  messages: 'created_at',
  query_log: 'created_at',
  sessions: 'created_at',
  tenants: 'created_at',
  users: 'display_name',
};

/**
 * Tables the runtime role may not update or delete at all. A write to them is refused
 * outright (permission denied, in a savepoint so the caller's transaction goes on), which
 * counts as zero rows affected; the append-only test below asserts the refusal itself.
 */
const APPEND_ONLY: ReadonlySet<WorldTable> = new Set(['audit_log']);

async function rowsAffected(db: CommonQueryMethods, table: string, statement: QuerySqlToken): Promise<number> {
  if (!APPEND_ONLY.has(table as WorldTable)) return (await db.query(statement)).rowCount;
  try {
    return await db.transaction(async (savepoint) => (await savepoint.query(statement)).rowCount);
  } catch (error) {
    if (error instanceof Error && sqlStateOf(error) === '42501') return 0;
    throw error;
  }
}

async function updateRows(db: CommonQueryMethods, table: WorldTable, where: FragmentSqlToken): Promise<number> {
  const column = sql.identifier([UNCHANGED_COLUMN[table]]);
  return rowsAffected(
    db,
    table,
    sql.unsafe`UPDATE ${sql.identifier([table])} SET ${column} = ${column} WHERE ${where}`,
  );
}

async function deleteRows(db: CommonQueryMethods, table: string, where: FragmentSqlToken): Promise<number> {
  return rowsAffected(db, table, sql.unsafe`DELETE FROM ${sql.identifier([table])} WHERE ${where}`);
}

function allFixtureRows(table: RlsTable, context: Context): FragmentSqlToken {
  const parts = [rowsOf(table, context.a), rowsOf(table, context.b)];
  if (table.platformRows) parts.push(table.platformRows(context.platform));
  return sql.fragment`(${sql.join(parts, sql.fragment`) OR (`)})`;
}

/** The error PostgreSQL raises when a written row fails a policy's WITH CHECK. */
function rlsViolation(table: string): ThrowsExpectation<pg.DatabaseError> {
  return {
    instanceOf: pg.DatabaseError,
    code: '42501',
    message: `new row violates row-level security policy for table "${table}"`,
  };
}

/** The error PostgreSQL raises when the runtime role lacks the privilege for a write. */
function permissionDenied(table: string): ThrowsExpectation<pg.DatabaseError> {
  return { instanceOf: pg.DatabaseError, code: '42501', message: `permission denied for table ${table}` };
}

/**
 * Moving a row is refused by the policy, except where the runtime role may not write the
 * column at all: users' ids (column privileges) and the append-only audit log.
 */
function refusalOfMove(table: WorldTable): ThrowsExpectation<pg.DatabaseError> {
  return table === 'users' || APPEND_ONLY.has(table) ? permissionDenied(table) : rlsViolation(table);
}

test.before(async (t) => {
  const app = await appPool();
  const [a, b, platformJob] = await Promise.all([
    createTenantWorld(app),
    createTenantWorld(app),
    createJob(app, { tenantId: null }),
  ]);
  const { jobEventId } = await createJobEvent(app, { jobId: platformJob.jobId, tenantId: null });
  t.context = { app, a, b, platform: { jobId: platformJob.jobId, jobEventId } };
});

test.after.always(async (t) => {
  await t.context.app?.end();
});

test('every table in public has forced row-level security, except the migrations ledger', async (t) => {
  const tables = await t.context.app.any(sql.type(
    z.object({ name: z.string(), enabled: z.boolean(), forced: z.boolean() }),
  )`
    SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  `);
  const unprotected = tables.filter((table) => !(table.enabled && table.forced)).map((table) => table.name);
  t.deepEqual(unprotected, ['migrations']);
  const protectedTables = tables.filter((table) => table.enabled && table.forced).map((table) => table.name);
  t.deepEqual(protectedTables.sort(), TABLES.map((table) => table.name).sort());
});

/** Ways to query without a tenant context. */
const NO_CONTEXT: ReadonlyArray<{
  readonly label: string;
  readonly run: <T>(pool: DatabasePool, handler: (db: CommonQueryMethods) => Promise<T>) => Promise<T>;
}> = [
  { label: 'a plain pool query', run: (pool, handler) => handler(pool) },
  { label: 'a transaction without settings', run: (pool, handler) => pool.transaction(handler) },
  {
    label: 'a transaction with empty-string settings',
    run: (pool, handler) =>
      pool.transaction(async (tx) => {
        await tx.query(sql.unsafe`
          SELECT set_config('app.tenant_id', '', true), set_config('app.user_id', '', true),
                 set_config('app.platform', '', true)
        `);
        return handler(tx);
      }),
  },
];

for (const table of TABLES) {
  for (const variant of NO_CONTEXT) {
    test(`${table.name}: ${variant.label} sees, updates and deletes no fixture row`, async (t) => {
      const where = allFixtureRows(table, t.context);
      const [visible, updated, deleted] = await variant.run(t.context.app, async (db) => [
        await countRows(db, table.name, where),
        await updateRows(db, table.name, where),
        await deleteRows(db, table.name, where),
      ]);
      t.deepEqual({ visible, updated, deleted }, { visible: 0, updated: 0, deleted: 0 });
    });
  }

  test(`${table.name}: each tenant sees its own rows under its context`, async (t) => {
    const { app, a, b } = t.context;
    t.is(await withTenant(app, contextOf(a), (tx) => countRows(tx, table.name, rowsOf(table, a))), countOf(table, a));
    t.is(await withTenant(app, contextOf(b), (tx) => countRows(tx, table.name, rowsOf(table, b))), countOf(table, b));
  });

  test(`${table.name}: tenant a cannot see, update or delete tenant b's rows`, async (t) => {
    const { app, a, b } = t.context;
    const theirs = rowsOf(table, b);
    const [visible, updated, deleted] = await withTenant(app, contextOf(a), async (tx) => [
      await countRows(tx, table.name, theirs),
      await updateRows(tx, table.name, theirs),
      await deleteRows(tx, table.name, theirs),
    ]);
    t.deepEqual({ visible, updated, deleted }, { visible: 0, updated: 0, deleted: 0 });
    t.is(await withTenant(app, contextOf(b), (tx) => countRows(tx, table.name, theirs)), countOf(table, b));
  });

  test(`${table.name}: rejects rows written under tenant a's context for another tenant or user`, async (t) => {
    const { app, a, b } = t.context;
    for (const forgery of table.forgeries(a, b)) {
      await t.throwsAsync(attempt(app, contextOf(a), forgery), rlsViolation(table.name));
    }
  });

  test(`${table.name}: rejects moving tenant a's rows to tenant b`, async (t) => {
    const { app, a, b } = t.context;
    for (const set of table.moves(a, b)) {
      const move = sql.unsafe`UPDATE ${sql.identifier([table.name])} SET ${set} WHERE ${rowsOf(table, a)}`;
      await t.throwsAsync(attempt(app, contextOf(a), move), refusalOfMove(table.name));
    }
    t.is(await withTenant(app, contextOf(a), (tx) => countRows(tx, table.name, rowsOf(table, a))), countOf(table, a));
    t.is(await withTenant(app, contextOf(b), (tx) => countRows(tx, table.name, rowsOf(table, a))), 0);
  });
}

const PLATFORM_TABLES = TABLES.flatMap(({ platformRows, ...table }) =>
  platformRows ? [{ ...table, platformRows }] : [],
);

test('the tables with platform rows are jobs and job_events', (t) => {
  t.deepEqual(PLATFORM_TABLES.map((table) => table.name).sort(), ['job_events', 'jobs']);
});

for (const table of PLATFORM_TABLES) {
  const platformRows = (context: Context) => table.platformRows(context.platform);

  test(`${table.name}: platform rows are hidden from a tenant context without platform scope`, async (t) => {
    const { app, a } = t.context;
    const where = platformRows(t.context);
    const [visible, updated, deleted] = await withTenant(app, contextOf(a), async (tx) => [
      await countRows(tx, table.name, where),
      await updateRows(tx, table.name, where),
      await deleteRows(tx, table.name, where),
    ]);
    t.deepEqual({ visible, updated, deleted }, { visible: 0, updated: 0, deleted: 0 });
  });

  test(`${table.name}: platform scope shows platform rows, and no tenant's rows unless that tenant is set`, async (t) => {
    const { app, a, b } = t.context;
    const where = platformRows(t.context);
    t.is(await withTenant(app, { platform: true }, (tx) => countRows(tx, table.name, where)), 1);
    t.is(await withTenant(app, { platform: true }, (tx) => countRows(tx, table.name, rowsOf(table, a))), 0);
    const [platformVisible, ownVisible, otherVisible] = await withTenant(
      app,
      { ...contextOf(a), platform: true },
      async (tx) => [
        await countRows(tx, table.name, where),
        await countRows(tx, table.name, rowsOf(table, a)),
        await countRows(tx, table.name, rowsOf(table, b)),
      ],
    );
    t.deepEqual({ platformVisible, ownVisible, otherVisible }, { platformVisible: 1, ownVisible: 1, otherVisible: 0 });
  });
}

test('a fellow member of the tenant is visible but cannot be changed or deleted', async (t) => {
  const { app, a } = t.context;
  // The fellow also owns a tenant of their own, which deleting their account would strip.
  const fellow = await createUser(app);
  await addMember(app, { tenantId: a.tenantId, userId: fellow.userId, role: 'member' });
  const { tenantId: fellowsTenant } = await createTenant(app, { ownerId: fellow.userId });

  const where = byUuids([fellow.userId]);
  const [visible, updated, deleted] = await withTenant(app, contextOf(a), async (tx) => [
    await countRows(tx, 'users', where),
    (await tx.query(sql.unsafe`UPDATE users SET display_name = 'renamed' WHERE ${where}`)).rowCount,
    await deleteRows(tx, 'users', where),
  ]);
  t.deepEqual({ visible, updated, deleted }, { visible: 1, updated: 0, deleted: 0 });

  const stillOwner = await withTenant(app, { tenantId: fellowsTenant }, (tx) =>
    countRows(tx, 'memberships', sql.fragment`user_id = ${fellow.userId} AND role = 'owner'`),
  );
  t.is(stillOwner, 1);
});

test("a private document and its chunks are hidden from the owner's fellow members", async (t) => {
  const { app, a } = t.context;
  const fellow = await createUser(app);
  await addMember(app, { tenantId: a.tenantId, userId: fellow.userId, role: 'admin' });
  const asFellow = { tenantId: a.tenantId, userId: fellow.userId };

  const shared = byUuids([a.documentId]);
  const hidden = byUuids([a.privateDocumentId]);
  const hiddenChunks = sql.fragment`document_id = ${a.privateDocumentId}`;
  const seen = await withTenant(app, asFellow, async (tx) => ({
    sharedDocument: await countRows(tx, 'documents', shared),
    sharedChunks: await countRows(tx, 'chunks', sql.fragment`document_id = ${a.documentId}`),
    privateDocument: await countRows(tx, 'documents', hidden),
    privateChunks: await countRows(tx, 'chunks', hiddenChunks),
    updated: (await updateRows(tx, 'documents', hidden)) + (await updateRows(tx, 'chunks', hiddenChunks)),
    deleted: (await deleteRows(tx, 'chunks', hiddenChunks)) + (await deleteRows(tx, 'documents', hidden)),
  }));
  t.deepEqual(seen, {
    sharedDocument: 1,
    sharedChunks: 1,
    privateDocument: 0,
    privateChunks: 0,
    updated: 0,
    deleted: 0,
  });
  t.is(await withTenant(app, contextOf(a), (tx) => countRows(tx, 'chunks', hiddenChunks)), 1);
});

test('a private job and its events are hidden from fellow members and from contexts without its user', async (t) => {
  const { app, a } = t.context;
  const fellow = await createUser(app);
  await addMember(app, { tenantId: a.tenantId, userId: fellow.userId, role: 'admin' });
  const job = await createJob(app, { tenantId: a.tenantId, privateTo: a.userId, createdBy: a.userId });
  const { jobEventId } = await createJobEvent(app, { jobId: job.jobId, tenantId: a.tenantId, privateTo: a.userId });
  const jobRow = byUuids([job.jobId]);
  const eventRow = bySerials([jobEventId]);

  const others: readonly { label: string; context: TenantContext }[] = [
    { label: 'a fellow admin', context: { tenantId: a.tenantId, userId: fellow.userId } },
    { label: 'the tenant alone (an API key, a worker)', context: { tenantId: a.tenantId } },
    {
      label: 'the tenant with platform scope',
      context: { tenantId: a.tenantId, userId: fellow.userId, platform: true },
    },
  ];
  for (const { label, context } of others) {
    const seen = await withTenant(app, context, async (tx) => ({
      job: await countRows(tx, 'jobs', jobRow),
      events: await countRows(tx, 'job_events', eventRow),
      updated: (await updateRows(tx, 'jobs', jobRow)) + (await updateRows(tx, 'job_events', eventRow)),
      deleted: (await deleteRows(tx, 'job_events', eventRow)) + (await deleteRows(tx, 'jobs', jobRow)),
    }));
    t.deepEqual(seen, { job: 0, events: 0, updated: 0, deleted: 0 }, label);
    const event = sql.unsafe`
      INSERT INTO job_events (job_id, tenant_id, step, status) VALUES (${job.jobId}, ${a.tenantId}, 'forged', 'info')
    `;
    await t.throwsAsync(attempt(app, context, event), rlsViolation('job_events'), label);
  }
  const own = await withTenant(app, contextOf(a), async (tx) => ({
    job: await countRows(tx, 'jobs', jobRow),
    events: await countRows(tx, 'job_events', eventRow),
  }));
  t.deepEqual(own, { job: 1, events: 1 });
});

test("a user's mail accounts, grants, OAuth sessions, emails and their documents are hidden from the tenant's owner and admins", async (t) => {
  const { app, a } = t.context;
  const member = await createUser(app);
  await addMember(app, { tenantId: a.tenantId, userId: member.userId, role: 'member' });
  const admin = await createUser(app);
  await addMember(app, { tenantId: a.tenantId, userId: admin.userId, role: 'admin' });
  const mail = await createMailAccount(app, { tenantId: a.tenantId, userId: member.userId });
  const email = await createEmail(app, { tenantId: a.tenantId, userId: member.userId }, mail.mailAccountId);
  const rows = {
    mail_accounts: byUuids([mail.mailAccountId]),
    mail_grants: sql.fragment`account_id = ${mail.mailAccountId}`,
    mail_oauth_sessions: byUuids([mail.mailSessionId]),
    emails: byUuids([email.emailId]),
    email_attachments: byUuids([email.emailAttachmentId]),
    documents: byUuids([email.emailDocumentId]),
  } as const;
  const others: readonly { label: string; context: TenantContext }[] = [
    { label: 'the tenant owner', context: contextOf(a) },
    { label: 'a tenant admin', context: { tenantId: a.tenantId, userId: admin.userId } },
    { label: 'the tenant alone (an API key, a worker)', context: { tenantId: a.tenantId } },
    { label: 'the tenant with platform scope', context: { ...contextOf(a), platform: true } },
    { label: 'the member in no tenant', context: { userId: member.userId } },
  ];
  for (const { label, context } of others) {
    for (const [table, where] of Object.entries(rows) as [WorldTable, FragmentSqlToken][]) {
      const seen = await withTenant(app, context, async (tx) => ({
        visible: await countRows(tx, table, where),
        updated: await updateRows(tx, table, where),
      }));
      t.deepEqual(seen, { visible: 0, updated: 0 }, `${table} for ${label}`);
    }
    const deleted = await withTenant(app, context, (tx) => deleteRows(tx, 'mail_accounts', rows.mail_accounts));
    t.is(deleted, 0, label);
  }
  const own = await withTenant(app, { tenantId: a.tenantId, userId: member.userId }, async (tx) => [
    await countRows(tx, 'mail_accounts', rows.mail_accounts),
    await countRows(tx, 'mail_grants', rows.mail_grants),
    await countRows(tx, 'mail_oauth_sessions', rows.mail_oauth_sessions),
    await countRows(tx, 'emails', rows.emails),
    await countRows(tx, 'email_attachments', rows.email_attachments),
    await countRows(tx, 'documents', rows.documents),
  ]);
  t.deepEqual(own, [1, 1, 1, 1, 1, 1]);
  // Removing the account takes its emails, their attachments and their documents with it.
  const after = await withTenant(app, { tenantId: a.tenantId, userId: member.userId }, async (tx) => {
    await deleteRows(tx, 'mail_accounts', rows.mail_accounts);
    return [
      await countRows(tx, 'emails', rows.emails),
      await countRows(tx, 'email_attachments', rows.email_attachments),
      await countRows(tx, 'documents', rows.documents),
    ];
  });
  t.deepEqual(after, [0, 0, 0]);
});

test('a document’s visibility and owner stay as uploaded, even for its owner', async (t) => {
  const { app, a } = t.context;
  const fellow = await createUser(app);
  await addMember(app, { tenantId: a.tenantId, userId: fellow.userId, role: 'member' });
  for (const statement of [
    sql.unsafe`UPDATE documents SET visibility = 'tenant' WHERE id = ${a.privateDocumentId}`,
    sql.unsafe`UPDATE documents SET visibility = 'private' WHERE id = ${a.documentId}`,
    sql.unsafe`UPDATE documents SET owner_user_id = ${fellow.userId} WHERE id = ${a.documentId}`,
  ]) {
    const error = await t.throwsAsync(attempt(app, contextOf(a), statement), {
      instanceOf: CheckIntegrityConstraintViolationError,
    });
    t.like(error?.cause, { code: '23514' });
    t.regex(
      (error?.cause as Error).message,
      /^the visibility and owner of document [0-9a-f-]{36} are fixed at upload$/,
    );
  }
});

test("chunks: rejects a chunk written under tenant a's own id for tenant b's document", async (t) => {
  const { app, a, b } = t.context;
  const chunk = forgedChunk({
    documentId: b.documentId,
    tenantId: a.tenantId,
    visibility: 'tenant',
    ownerUserId: a.userId,
  });
  await t.throwsAsync(attempt(app, contextOf(a), chunk), rlsViolation('chunks'));
});

test('the audit log is append-only for the runtime role', async (t) => {
  const { app, a } = t.context;
  const { where: own, count } = worldRows(a).audit_log;
  for (const statement of [
    sql.unsafe`UPDATE audit_log SET action = 'rewritten' WHERE ${own}`,
    sql.unsafe`DELETE FROM audit_log WHERE ${own}`,
  ]) {
    await t.throwsAsync(attempt(app, contextOf(a), statement), permissionDenied('audit_log'));
  }
  t.is(await withTenant(app, contextOf(a), (tx) => countRows(tx, 'audit_log', own)), count);
});

test('a user can neither make themselves a platform admin nor read password hashes', async (t) => {
  const { app, a } = t.context;
  const self = sql.fragment`id = ${a.userId}`;
  for (const statement of [
    sql.unsafe`UPDATE users SET is_admin = true WHERE ${self}`,
    sql.unsafe`SELECT password_hash FROM users WHERE ${self}`,
    sql.unsafe`INSERT INTO users (id, email, password_hash, is_admin) VALUES (${a.userId}, 'x@y.z', 'h', true)`,
  ]) {
    await t.throwsAsync(attempt(app, contextOf(a), statement), permissionDenied('users'));
  }
  const admin = await withTenant(app, contextOf(a), (tx) =>
    tx.oneFirst(sql.type(z.object({ isAdmin: z.boolean() }))`SELECT is_admin AS "isAdmin" FROM users WHERE ${self}`),
  );
  t.false(admin);
});

/** A pool with one connection, so that consecutive calls provably share a backend. */
const SINGLE_CONNECTION_POOLS: ReadonlyArray<{ readonly label: string; readonly create: () => Promise<DatabasePool> }> =
  [
    {
      label: 'the application pool',
      create: () => createDatabasePool(testConfig().DATABASE_URL as string, { maxPoolSize: 1 }),
    },
    {
      // Slonik runs DISCARD ALL when it releases a connection; without it, only the
      // transaction-local set_config stands between one caller's context and the next.
      label: 'a pool that never resets its connections',
      create: () =>
        createPool(testConfig().DATABASE_URL as string, {
          driverFactory: createPgDriverFactory(),
          interceptors: [createResultParserInterceptor()],
          maxPoolSize: 1,
          resetConnection: async () => {},
        }),
    },
  ];

const Session = z.object({
  pid: z.number().int(),
  tenantId: z.string().nullable(),
  userId: z.string().nullable(),
  platform: z.string().nullable(),
  visible: z.number().int(),
});

function sessionState(db: CommonQueryMethods, tenantId: string): Promise<z.infer<typeof Session>> {
  return db.one(sql.type(Session)`
    SELECT pg_backend_pid() AS pid,
           NULLIF(current_setting('app.tenant_id', true), '') AS "tenantId",
           NULLIF(current_setting('app.user_id', true), '') AS "userId",
           NULLIF(current_setting('app.platform', true), '') AS platform,
           (SELECT count(*)::int FROM tenants WHERE id = ${tenantId}) AS visible
  `);
}

for (const { label, create } of SINGLE_CONNECTION_POOLS) {
  test(`settings do not outlive their transaction on ${label}`, async (t) => {
    const { a } = t.context;
    const pool = await create();
    t.teardown(() => pool.end());

    const inside = await withTenant(pool, { ...contextOf(a), platform: true }, (tx) => sessionState(tx, a.tenantId));
    t.like(inside, { tenantId: a.tenantId, userId: a.userId, platform: 'on', visible: 1 });

    const afterCommit = await sessionState(pool, a.tenantId);
    t.deepEqual(afterCommit, { pid: inside.pid, tenantId: null, userId: null, platform: null, visible: 0 });

    const nextTransaction = await pool.transaction((tx) => sessionState(tx, a.tenantId));
    t.deepEqual(nextTransaction, { pid: inside.pid, tenantId: null, userId: null, platform: null, visible: 0 });
  });
}
