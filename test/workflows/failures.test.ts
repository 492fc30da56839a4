import { ApplicationFailure } from '@temporalio/common';
import test from 'ava';
import { sql } from 'slonik';
import { FailureType, permanentFailure } from '../../activities/failure-types.ts';
import { sqlStateOf, toActivityFailure } from '../../activities/failures.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { CorruptDocumentError, PermanentProviderError, TransientProviderError } from '../../rag/errors.ts';
import { appPool } from '../helpers/stack.ts';

test('a corrupt document becomes a non-retryable failure carrying its code and reason', (t) => {
  const failure = toActivityFailure(new CorruptDocumentError('a.pdf', 'pdf', 'no xref table'));
  t.true(failure instanceof ApplicationFailure);
  const app = failure as ApplicationFailure;
  t.is(app.type, 'corrupt_document');
  t.true(app.nonRetryable);
  t.is(app.message, 'Corrupt pdf document "a.pdf": no xref table');
});

test('a rate-limited provider stays retryable and asks for the Retry-After delay', (t) => {
  const failure = toActivityFailure(
    new TransientProviderError('openai', 'text-embedding-3-small', 429, 'slow down', 1500),
  ) as ApplicationFailure;
  t.is(failure.type, 'provider_unavailable');
  t.false(failure.nonRetryable);
  t.is(failure.nextRetryDelay, 1500);
});

test('a provider rejection is permanent', (t) => {
  const failure = toActivityFailure(
    new PermanentProviderError('openai', 'text-embedding-3-small', 400, 'bad input'),
  ) as ApplicationFailure;
  t.is(failure.type, 'provider_rejected');
  t.true(failure.nonRetryable);
});

test('database errors no retry can mend are permanent, a lost connection is not', async (t) => {
  const pool = await appPool();
  try {
    const permanent = async (query: Promise<unknown>, sqlState: string) => {
      const error = await t.throwsAsync(query);
      t.is(sqlStateOf(error), sqlState);
      const failure = toActivityFailure(error) as ApplicationFailure;
      t.true(failure instanceof ApplicationFailure);
      t.true(failure.nonRetryable);
      t.is(failure.type, `postgres_${sqlState}`);
    };
    await permanent(pool.query(sql.unsafe`SELECT 1 / 0`), '22012');
    // A row that row-level security refuses (no tenant context) is a bug, not a passing fault.
    await permanent(
      pool.query(sql.unsafe`INSERT INTO job_events (job_id, step, status) VALUES (gen_random_uuid(), 'x', 'info')`),
      '42501',
    );
    await permanent(
      withTenant(pool, { platform: true }, (tx) =>
        tx.query(sql.unsafe`
          INSERT INTO jobs (kind, subject, workflow_id, run_id, status) VALUES ('maintenance', 's', 'w', 'r', 'bogus')`),
      ),
      '23514',
    );

    const terminated = await t.throwsAsync(pool.query(sql.unsafe`SELECT pg_terminate_backend(pg_backend_pid())`));
    t.is(sqlStateOf(terminated), '57P01');
    t.is(toActivityFailure(terminated), terminated);
  } finally {
    await pool.end();
  }
});

test('an error that is already an ApplicationFailure is passed on as it is', (t) => {
  const original = ApplicationFailure.nonRetryable('stop', 'custom');
  t.is(toActivityFailure(original), original);
});

test('a catalogued failure is a non-retryable failure of its type, passed on as it is', (t) => {
  const failure = permanentFailure(FailureType.BLOB_MISSING, 'The original of this document is missing');
  t.true(failure instanceof ApplicationFailure);
  t.is(failure.type, 'blob_missing');
  t.true(failure.nonRetryable);
  t.is(failure.message, 'The original of this document is missing');
  t.is(toActivityFailure(failure), failure);
});

test('the catalogue keeps the failure types that jobs have always failed with', (t) => {
  t.deepEqual(Object.values(FailureType).sort(), [
    'blob_missing',
    'document_conflict',
    'document_gone',
    'embedder_mismatch',
    'mail_history_expired',
    'mail_needs_reauth',
    'mail_not_configured',
    'reembed_failed',
    'version_incomplete',
  ]);
});
