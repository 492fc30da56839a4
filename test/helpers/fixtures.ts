// Test fixtures, written the way the application writes them: through withTenant on the
// runtime role's pool, one RLS-scoped transaction per write, under the context that owns
// the row. Every fixture gets fresh random ids and emails, because all test files share one
// database and run at the same time.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { sql, type DatabasePool, type FragmentSqlToken, type QuerySqlToken } from 'slonik';
import { z } from 'zod';
import type { ApiKeyRole } from '../../db/queries/api-keys.ts';
import { insertChunks, recordEmbeddingModels } from '../../db/queries/chunks.ts';
import type { DocumentVisibility } from '../../contract/documents.ts';
import { activateVersion, insertDocument } from '../../db/queries/documents.ts';
import { insertConversation } from '../../db/queries/conversations.ts';
import { appendTurn } from '../../db/queries/messages.ts';
import type { TenantRole } from '../../db/queries/memberships.ts';
import { logQuery } from '../../db/queries/query-log.ts';
import { withTenant, type TenantConnection, type TenantContext } from '../../db/with-tenant.ts';
import { workflowIdFor, type JobKind, type JobStatus } from '../../contract/jobs.ts';
import { createTokenCipher, sealContext } from '../../mail/token-cipher.ts';

/** The token key of the test run (scripts/test.ts), which every API under test seals with by default. */
function runTokenKey(): string {
  const key = process.env.TOKEN_ENCRYPTION_KEY;
  if (!key) throw new Error('TOKEN_ENCRYPTION_KEY is not set: run the tests with npm test');
  return key;
}

const IdRow = z.object({ id: z.uuid() });
const SerialRow = z.object({ id: z.number().int() });

/** A fresh address that no other fixture or test file will use. */
export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomUUID()}@fixture.test`;
}

export interface UserFixture {
  readonly userId: string;
  readonly email: string;
}

/**
 * Registers an account as the API does: under the new user's own context. With `password`
 * the row holds a real argon2id hash, so the account can log in; without it, a hash that
 * matches no password.
 */
export async function createUser(
  pool: DatabasePool,
  options: { email?: string; password?: string; displayName?: string } = {},
): Promise<UserFixture> {
  const userId = randomUUID();
  const email = options.email ?? uniqueEmail();
  const passwordHash = options.password === undefined ? '!fixture-without-password' : await hash(options.password);
  await withTenant(pool, { userId }, (tx) =>
    tx.one(sql.type(IdRow)`
      INSERT INTO users (id, email, password_hash, display_name)
      VALUES (${userId}, ${email}, ${passwordHash}, ${options.displayName ?? 'Fixture user'})
      RETURNING id
    `),
  );
  return { userId, email };
}

/** Creates a tenant and makes `ownerId` its owner, in one transaction under the new tenant's context. */
export async function createTenant(
  pool: DatabasePool,
  options: { ownerId: string; name?: string },
): Promise<{ tenantId: string }> {
  const tenantId = randomUUID();
  await withTenant(pool, { tenantId, userId: options.ownerId }, async (tx) => {
    await tx.one(sql.type(IdRow)`
      INSERT INTO tenants (id, name, created_by)
      VALUES (${tenantId}, ${options.name ?? `Fixture tenant ${tenantId.slice(0, 8)}`}, ${options.ownerId})
      RETURNING id
    `);
    await insertMembership(tx, tenantId, options.ownerId, 'owner');
  });
  return { tenantId };
}

async function insertMembership(
  tx: TenantConnection,
  tenantId: string,
  userId: string,
  role: TenantRole,
): Promise<void> {
  await tx.one(sql.type(z.object({ tenantId: z.uuid() }))`
    INSERT INTO memberships (tenant_id, user_id, role)
    VALUES (${tenantId}, ${userId}, ${role})
    RETURNING tenant_id AS "tenantId"
  `);
}

/** Adds a member to a tenant under that tenant's context. */
export async function addMember(
  pool: DatabasePool,
  options: { tenantId: string; userId: string; role: TenantRole },
): Promise<void> {
  await withTenant(pool, { tenantId: options.tenantId }, (tx) =>
    insertMembership(tx, options.tenantId, options.userId, options.role),
  );
}

export interface TenantFixture extends UserFixture {
  readonly tenantId: string;
}

/** A new user who owns a new tenant. */
export async function createTenantWithOwner(
  pool: DatabasePool,
  options: { password?: string; isAdmin?: boolean } = {},
): Promise<TenantFixture> {
  const user = await createUser(pool, options);
  const { tenantId } = await createTenant(pool, { ownerId: user.userId });
  return { ...user, tenantId };
}

/**
 * Stores an API key row: a visible prefix and a SHA-256 of a random secret. The secret is
 * not returned: authenticate API clients through the API's own key creation instead.
 */
export async function createApiKey(
  pool: DatabasePool,
  options: { tenantId: string; createdBy: string; role?: ApiKeyRole; expiresAt?: Date | null; revokedAt?: Date | null },
): Promise<{ apiKeyId: string; prefix: string }> {
  const apiKeyId = randomUUID();
  const prefix = `fx_${randomBytes(9).toString('base64url')}`;
  const keyHash = createHash('sha256').update(randomBytes(32)).digest('hex');
  await withTenant(pool, { tenantId: options.tenantId, userId: options.createdBy }, (tx) =>
    tx.one(sql.type(IdRow)`
      INSERT INTO api_keys (id, tenant_id, created_by, name, prefix, key_hash, role, expires_at, revoked_at)
      VALUES (${apiKeyId}, ${options.tenantId}, ${options.createdBy}, 'fixture key', ${prefix}, ${keyHash},
              ${options.role ?? 'member'}, ${timestamp(options.expiresAt)}, ${timestamp(options.revokedAt)})
      RETURNING id
    `),
  );
  return { apiKeyId, prefix };
}

/** Opens a session for the user, under the user's own context (sessions are keyed on the user). */
export async function createSession(
  pool: DatabasePool,
  options: { userId: string; expiresAt?: Date; revokedAt?: Date | null },
): Promise<{ sessionId: string }> {
  const sessionId = randomUUID();
  const expiresAt = options.expiresAt ?? new Date(Date.now() + 15 * 60_000);
  await withTenant(pool, { userId: options.userId }, (tx) =>
    tx.one(sql.type(IdRow)`
      INSERT INTO sessions (id, user_id, expires_at, revoked_at, user_agent, ip)
      VALUES (${sessionId}, ${options.userId}, ${timestamp(expiresAt)}, ${timestamp(options.revokedAt)},
              'fixture', '127.0.0.1')
      RETURNING id
    `),
  );
  return { sessionId };
}

export interface JobFixture {
  readonly jobId: string;
  readonly workflowId: string;
  readonly runId: string;
}

/**
 * Records a job as a job activity does: under the tenant's context (as `privateTo`, for a job
 * private to that user), or under platform scope when `tenantId` is null. Finished by default,
 * so that the maintenance workflow's reconciliation of stale running jobs leaves fixtures alone.
 */
export async function createJob(
  pool: DatabasePool,
  options: {
    tenantId: string | null;
    createdBy?: string | null;
    kind?: JobKind;
    status?: JobStatus;
    privateTo?: string;
  },
): Promise<JobFixture> {
  const jobId = randomUUID();
  const runId = randomUUID();
  const kind = options.kind ?? 'maintenance';
  const workflowId = workflowIdFor(kind, options.tenantId, `fixture-${jobId}`);
  const status = options.status ?? 'completed';
  const finished = ['completed', 'failed', 'cancelled'].includes(status);
  await withTenant(pool, scopeOf(options.tenantId, options.privateTo), (tx) =>
    tx.one(sql.type(IdRow)`
      INSERT INTO jobs (id, tenant_id, private_to, kind, subject, workflow_id, run_id, status, created_by, started_at,
                        finished_at)
      VALUES (${jobId}, ${options.tenantId}, ${options.privateTo ?? null}, ${kind}, ${`fixture-${jobId}`}, ${workflowId},
              ${runId}, ${status}, ${options.createdBy ?? null}, now(), ${finished ? sql.fragment`now()` : null})
      RETURNING id
    `),
  );
  return { jobId, workflowId, runId };
}

/** Appends an event to a job, under the job's own scope (its tenant, or platform scope). */
export async function createJobEvent(
  pool: DatabasePool,
  options: { jobId: string; tenantId: string | null; step?: string; privateTo?: string },
): Promise<{ jobEventId: number }> {
  const row = await withTenant(pool, scopeOf(options.tenantId, options.privateTo), (tx) =>
    tx.one(sql.type(SerialRow)`
      INSERT INTO job_events (job_id, tenant_id, step, status, message)
      VALUES (${options.jobId}, ${options.tenantId}, ${options.step ?? 'fixture'}, 'info', 'fixture event')
      RETURNING id
    `),
  );
  return { jobEventId: row.id };
}

/**
 * Writes an audit row by `actorUserId`: a tenant's row under the tenant's context, or, when
 * `tenantId` is null, an event of the user alone under the user's context.
 */
export async function createAuditEntry(
  pool: DatabasePool,
  options: { tenantId: string | null; actorUserId: string; action?: string },
): Promise<{ auditId: number }> {
  const row = await withTenant(pool, { tenantId: options.tenantId, userId: options.actorUserId }, (tx) =>
    tx.one(sql.type(SerialRow)`
      INSERT INTO audit_log (tenant_id, actor_user_id, action, target_type, target_id, request_id)
      VALUES (${options.tenantId}, ${options.actorUserId}, ${options.action ?? 'fixture.created'}, 'fixture',
              ${randomUUID()}, ${randomUUID()})
      RETURNING id
    `),
  );
  return { auditId: row.id };
}

/**
 * Uploads a document as the ingestion activities leave it: the document row, one embedded
 * chunk, and its embedding model recorded for the tenant, under the uploader's context.
 * `embeddingModel` names the model (fresh by default, so the tenant's row is this fixture's).
 */
export async function createDocument(
  pool: DatabasePool,
  options: { tenantId: string; ownerUserId: string; visibility?: DocumentVisibility; embeddingModel?: string },
): Promise<{ documentId: string; embeddingModel: string }> {
  const documentId = randomUUID();
  const embeddingModel = options.embeddingModel ?? `fixture-${randomUUID()}`;
  const content = `Fixture document ${documentId}`;
  await withTenant(pool, { tenantId: options.tenantId, userId: options.ownerUserId }, async (tx) => {
    const inserted = await insertDocument(tx, {
      id: documentId,
      tenantId: options.tenantId,
      ownerUserId: options.ownerUserId,
      visibility: options.visibility ?? 'tenant',
      title: content,
      description: '',
      tags: ['fixture'],
      source: 'text',
      filename: null,
      mimeType: 'text/plain',
      byteSize: content.length,
      contentSha256: createHash('sha256').update(content).digest('hex'),
      blobKey: `fixtures/${documentId}`,
    });
    if (!inserted) throw new Error(`fixture document ${documentId} was not inserted`);
    const chunk = { documentId, version: 1, ordinal: 0, content, startOffset: 0, endOffset: content.length };
    await insertChunks(tx, [{ ...chunk, embeddingModel, embedding: [1, 0, 0] }]);
    await recordEmbeddingModels(tx, { documentId, version: 1 });
    // Active, as a completed ingestion leaves it, so that it has lexical postings and statistics.
    if (!(await activateVersion(tx, documentId, 1)))
      throw new Error(`fixture document ${documentId} was not activated`);
  });
  return { documentId, embeddingModel };
}

/** Starts a conversation of the user with one turn, a question and its answer, as /v1/ask writes it. */
export async function createConversation(
  pool: DatabasePool,
  owner: { tenantId: string; userId: string },
): Promise<{ conversationId: string; messageIds: string[] }> {
  const conversationId = randomUUID();
  return withTenant(pool, owner, async (tx) => {
    await insertConversation(tx, owner, { id: conversationId, title: 'Fixture conversation' });
    const turn = await appendTurn(
      tx,
      owner,
      { id: conversationId, after: null },
      {
        question: 'Fixture question?',
        answer: 'Fixture answer.',
        context: [],
        citations: [],
        model: 'fixture',
        extractive: true,
        usage: { promptTokens: 0, completionTokens: 0 },
      },
    );
    return { conversationId, messageIds: [turn.question.id, turn.answer.id] };
  });
}

/** Counts a search by the user in the tenant's query log, as /v1/search does. */
export async function createQueryLogEntry(
  pool: DatabasePool,
  asker: { tenantId: string; userId: string },
): Promise<{ queryLogId: number }> {
  const queryLogId = await withTenant(pool, asker, (tx) =>
    logQuery(tx, { ...asker, apiKeyId: null, kind: 'search', mode: 'hybrid', resultCount: 0, durationMs: 1 }),
  );
  return { queryLogId };
}

/**
 * Connects a mailbox as the mail routes leave it: the account, its grant and a live OAuth
 * session, under the user's own context, sealed under the test run's token key (scripts/test.ts)
 * as the routes seal them: a key rotation over the whole database (test/mail/token-keys.test.ts)
 * finds nothing here it cannot open.
 */
export async function createMailAccount(
  pool: DatabasePool,
  owner: { tenantId: string; userId: string },
): Promise<{ mailAccountId: string; mailSessionId: string }> {
  const mailAccountId = randomUUID();
  const mailSessionId = randomUUID();
  const cipher = createTokenCipher(runTokenKey());
  const refresh = cipher.seal(`fixture-refresh-${randomUUID()}`, sealContext.refreshToken(mailAccountId));
  const verifier = cipher.seal(randomBytes(32).toString('base64url'), sealContext.codeVerifier(mailSessionId));
  const keyId = cipher.currentKeyId;
  await withTenant(pool, owner, async (tx) => {
    await tx.query(sql.unsafe`
      INSERT INTO mail_accounts (id, tenant_id, user_id, address, status, connected_at)
      VALUES (${mailAccountId}, ${owner.tenantId}, ${owner.userId}, ${uniqueEmail('mail')}, 'idle', now())
    `);
    await tx.query(sql.unsafe`
      INSERT INTO mail_grants (account_id, tenant_id, user_id, key_id, refresh_token_ciphertext, scopes)
      VALUES (${mailAccountId}, ${owner.tenantId}, ${owner.userId}, ${keyId}, ${sql.binary(refresh.ciphertext)},
              ${sql.array(['https://www.googleapis.com/auth/gmail.readonly'], 'text')})
    `);
    await tx.query(sql.unsafe`
      INSERT INTO mail_oauth_sessions (id, tenant_id, user_id, account_id, state_hash, key_id, code_verifier_ciphertext,
                                       expires_at)
      VALUES (${mailSessionId}, ${owner.tenantId}, ${owner.userId}, ${mailAccountId},
              ${createHash('sha256').update(randomBytes(32)).digest('hex')}, ${keyId}, ${sql.binary(verifier.ciphertext)},
              now() + interval '10 minutes')
    `);
  });
  return { mailAccountId, mailSessionId };
}

/**
 * A synced email of the account, as the mailbox workflow leaves it: the email, its private
 * gmail document (without chunks) and one skipped attachment, under the user's own context.
 */
export async function createEmail(
  pool: DatabasePool,
  owner: { tenantId: string; userId: string },
  mailAccountId: string,
): Promise<{ emailId: string; emailAttachmentId: string; emailDocumentId: string }> {
  const emailId = randomUUID();
  const emailAttachmentId = randomUUID();
  const emailDocumentId = randomUUID();
  const gmailId = randomBytes(8).toString('hex');
  await withTenant(pool, owner, async (tx) => {
    await insertDocument(tx, {
      id: emailDocumentId,
      tenantId: owner.tenantId,
      ownerUserId: owner.userId,
      visibility: 'private',
      title: `Fixture mail ${gmailId}`,
      description: '',
      tags: [],
      source: 'gmail',
      filename: `${gmailId}.eml`,
      mimeType: 'message/rfc822',
      byteSize: 10,
      contentSha256: createHash('sha256').update(gmailId).digest('hex'),
      blobKey: `fixtures/${emailDocumentId}`,
    });
    await tx.query(sql.unsafe`
      INSERT INTO emails (id, tenant_id, user_id, account_id, gmail_message_id, gmail_thread_id, subject,
                          is_read, is_important, has_attachments, byte_size, document_id)
      VALUES (${emailId}, ${owner.tenantId}, ${owner.userId}, ${mailAccountId}, ${gmailId}, ${gmailId},
              'Fixture mail', false, false, true, 10, ${emailDocumentId})
    `);
    await tx.query(sql.unsafe`
      INSERT INTO email_attachments (id, tenant_id, user_id, email_id, ordinal, filename, mime_type, byte_size,
                                     status, skip_reason)
      VALUES (${emailAttachmentId}, ${owner.tenantId}, ${owner.userId}, ${emailId}, 0, 'photo.png', 'image/png', 3,
              'skipped', 'unsupported_format: image/png')
    `);
  });
  return { emailId, emailAttachmentId, emailDocumentId };
}

/**
 * One tenant's full set of rows: an owner, a key, a session, a job with an event, audit rows,
 * documents, a conversation with its messages, a logged query.
 */
export interface TenantWorld extends TenantFixture {
  readonly apiKeyId: string;
  readonly sessionId: string;
  readonly jobId: string;
  readonly jobEventId: number;
  /** An audit row of the tenant. */
  readonly tenantAuditId: number;
  /** An audit row of the user alone (tenant_id NULL). */
  readonly userAuditId: number;
  /** A document shared with the tenant, with one chunk. */
  readonly documentId: string;
  /** A document private to the owner, with one chunk. */
  readonly privateDocumentId: string;
  /** The tenant's one embedding model, used by both documents. */
  readonly embeddingModel: string;
  /** The owner's conversation, with its two messages. */
  readonly conversationId: string;
  readonly messageIds: readonly string[];
  /** A search by the owner in the query log. */
  readonly queryLogId: number;
  /** The lexical postings of both documents' chunks (one per term). */
  readonly postingCount: number;
  /** The chunk of the shared document. */
  readonly chunkId: string;
  /** The owner's mail account, with its grant and a live OAuth session. */
  readonly mailAccountId: string;
  readonly mailSessionId: string;
  /** A synced email of that account, its gmail document and one attachment. */
  readonly emailId: string;
  readonly emailAttachmentId: string;
  readonly emailDocumentId: string;
}

/** Creates a tenant with a row in every table that holds tenant or user data. */
export async function createTenantWorld(pool: DatabasePool): Promise<TenantWorld> {
  const owner = await createTenantWithOwner(pool);
  const [{ apiKeyId }, { sessionId }, job, { auditId: tenantAuditId }, { auditId: userAuditId }] = await Promise.all([
    createApiKey(pool, { tenantId: owner.tenantId, createdBy: owner.userId }),
    createSession(pool, { userId: owner.userId }),
    createJob(pool, { tenantId: owner.tenantId, createdBy: owner.userId }),
    createAuditEntry(pool, { tenantId: owner.tenantId, actorUserId: owner.userId }),
    createAuditEntry(pool, { tenantId: null, actorUserId: owner.userId, action: 'fixture.user-event' }),
  ]);
  const { jobEventId } = await createJobEvent(pool, { jobId: job.jobId, tenantId: owner.tenantId });
  const { documentId, embeddingModel } = await createDocument(pool, {
    tenantId: owner.tenantId,
    ownerUserId: owner.userId,
  });
  const { documentId: privateDocumentId } = await createDocument(pool, {
    tenantId: owner.tenantId,
    ownerUserId: owner.userId,
    visibility: 'private',
    embeddingModel,
  });
  const { conversationId, messageIds } = await createConversation(pool, owner);
  const { queryLogId } = await createQueryLogEntry(pool, owner);
  const { mailAccountId, mailSessionId } = await createMailAccount(pool, owner);
  const { emailId, emailAttachmentId, emailDocumentId } = await createEmail(pool, owner, mailAccountId);
  const { postingCount, chunkId } = await withTenant(pool, owner, (tx) =>
    tx.one(sql.type(z.object({ postingCount: z.number().int(), chunkId: z.uuid() }))`
      SELECT (SELECT count(*)::int FROM lexical_postings WHERE tenant_id = ${owner.tenantId}) AS "postingCount",
             (SELECT id FROM chunks WHERE document_id = ${documentId}) AS "chunkId"
    `),
  );
  if (postingCount === 0) throw new Error('the fixture documents have no lexical postings');
  return {
    postingCount,
    chunkId,
    ...owner,
    apiKeyId,
    sessionId,
    jobId: job.jobId,
    jobEventId,
    tenantAuditId,
    userAuditId,
    documentId,
    privateDocumentId,
    embeddingModel,
    conversationId,
    messageIds,
    queryLogId,
    mailAccountId,
    mailSessionId,
    emailId,
    emailAttachmentId,
    emailDocumentId,
  };
}

/** The tables a world has rows in, named as the catalog names them. */
export const WORLD_TABLES = [
  'api_keys',
  'audit_log',
  'chunks',
  'conversations',
  'documents',
  'email_attachments',
  'emails',
  'embedding_models',
  'job_events',
  'jobs',
  'lexical_postings',
  'lexical_stats',
  'mail_accounts',
  'mail_grants',
  'mail_oauth_sessions',
  'memberships',
  'messages',
  'query_log',
  'sessions',
  'tenants',
  'users',
] as const;
export type WorldTable = (typeof WORLD_TABLES)[number];

/** Where each table holds a world's rows, and how many there are: all visible under the world's context. */
export function worldRows(world: TenantWorld): Record<WorldTable, { where: FragmentSqlToken; count: number }> {
  const uuids = (ids: readonly string[]) => sql.fragment`id = ANY(${sql.array(ids, 'uuid')})`;
  const serials = (ids: readonly number[]) => sql.fragment`id = ANY(${sql.array(ids, 'int8')})`;
  return {
    api_keys: { where: uuids([world.apiKeyId]), count: 1 },
    audit_log: { where: serials([world.tenantAuditId, world.userAuditId]), count: 2 },
    chunks: {
      where: sql.fragment`document_id = ANY(${sql.array([world.documentId, world.privateDocumentId], 'uuid')})`,
      count: 2,
    },
    conversations: { where: uuids([world.conversationId]), count: 1 },
    documents: { where: uuids([world.documentId, world.privateDocumentId, world.emailDocumentId]), count: 3 },
    email_attachments: { where: uuids([world.emailAttachmentId]), count: 1 },
    emails: { where: uuids([world.emailId]), count: 1 },
    embedding_models: {
      where: sql.fragment`tenant_id = ${world.tenantId} AND model = ${world.embeddingModel}`,
      count: 1,
    },
    job_events: { where: serials([world.jobEventId]), count: 1 },
    jobs: { where: uuids([world.jobId]), count: 1 },
    // Both documents' postings, and the statistics of the tenant-wide scope and the owner's private one.
    lexical_postings: { where: sql.fragment`tenant_id = ${world.tenantId}`, count: world.postingCount },
    lexical_stats: { where: sql.fragment`tenant_id = ${world.tenantId}`, count: 2 },
    mail_accounts: { where: uuids([world.mailAccountId]), count: 1 },
    mail_grants: { where: sql.fragment`account_id = ${world.mailAccountId}`, count: 1 },
    mail_oauth_sessions: { where: uuids([world.mailSessionId]), count: 1 },
    memberships: { where: sql.fragment`tenant_id = ${world.tenantId} AND user_id = ${world.userId}`, count: 1 },
    messages: { where: uuids(world.messageIds), count: 2 },
    query_log: { where: serials([world.queryLogId]), count: 1 },
    sessions: { where: uuids([world.sessionId]), count: 1 },
    tenants: { where: uuids([world.tenantId]), count: 1 },
    users: { where: uuids([world.userId]), count: 1 },
  };
}

/** The context a request of the world's owner runs under: its tenant and its user. */
export function contextOf(world: TenantFixture): TenantContext {
  return { tenantId: world.tenantId, userId: world.userId };
}

/** Thrown by `attempt` when a statement that should have been refused went through. */
export class StatementAccepted extends Error {}

/**
 * Runs one statement that should be refused, in a transaction that never commits: under
 * `context` through withTenant, or with no context at all. A statement that does go through
 * is rolled back and reported as StatementAccepted, so it leaves no row in the shared
 * database and no setting on the pooled connection.
 */
export function attempt(pool: DatabasePool, context: TenantContext | null, statement: QuerySqlToken): Promise<never> {
  const run = async (tx: TenantConnection): Promise<never> => {
    await tx.query(statement);
    throw new StatementAccepted(statement.sql);
  };
  return context ? withTenant(pool, context, run) : pool.transaction(run);
}

function scopeOf(tenantId: string | null, privateTo?: string): TenantContext {
  return tenantId === null ? { platform: true } : { tenantId, userId: privateTo ?? null };
}

function timestamp(value: Date | null | undefined): string | null {
  return value ? value.toISOString() : null;
}
