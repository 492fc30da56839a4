// GET /v1/stats: documents by status, the chunks search serves, storage and queries, counted
// as the caller sees them (no other tenant, no other member's private document).
import anyTest, { type TestFn } from 'ava';
import { call, tenantOwner } from '../api/harness.ts';
import { withSearchWorld, type SearchApiContext } from './api-world.ts';

const test = withSearchWorld(anyTest as TestFn<SearchApiContext>);

function stats(t: { context: SearchApiContext }, who: { token: string; tenantId?: string }) {
  return call(t.context.api, 'GET', '/v1/stats', { token: who.token, tenantId: who.tenantId });
}

const noDocuments = { queued: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 };

test('a member counts the tenant’s shared documents, not another member’s private one', async (t) => {
  const { mia, apiKey } = t.context.world;
  for (const who of [mia, { token: apiKey }]) {
    const reply = await stats(t, who);
    t.is(reply.status, 200);
    t.like(reply.body, {
      // The tide tables are processing a new version; their first version is still served.
      documents: { total: 3, byStatus: { ...noDocuments, completed: 2, processing: 1 } },
      chunks: 6,
      storageBytes: 3000 + 2000 + 500,
    });
  }
});

test('the owner of a private document counts it too', async (t) => {
  const reply = await stats(t, t.context.world.alice);
  t.like(reply.body, {
    documents: { total: 4, byStatus: { ...noDocuments, completed: 3, processing: 1 } },
    chunks: 7,
    storageBytes: 5600,
  });
});

test('another tenant sees only its own figures', async (t) => {
  const { bob } = t.context.world;
  const reply = await stats(t, bob);
  t.like(reply.body, { documents: { total: 1 }, chunks: 1, storageBytes: 7000 });
});

test('searches and asks are counted for their tenant alone', async (t) => {
  const { api } = t.context;
  const owner = await tenantOwner(api, 'counted');
  const who = { token: owner.token, tenantId: owner.tenantId };
  t.deepEqual((await stats(t, who)).body, {
    documents: { total: 0, byStatus: noDocuments },
    chunks: 0,
    storageBytes: 0,
    queries: { total: 0, last24h: 0 },
    mail: { accounts: 0, emails: 0, attachments: 0, attachmentsIndexed: 0 },
  });
  await call(api, 'POST', '/v1/search', { ...who, body: { query: 'apple' } });
  await call(api, 'POST', '/v1/search', { ...who, body: { query: 'apple', mode: 'lexical' } });
  await call(api, 'POST', '/v1/ask', { ...who, body: { question: 'apple?' } });
  // Refused requests are not queries.
  await call(api, 'POST', '/v1/search', { ...who, body: { query: '' } });
  t.deepEqual((await stats(t, who)).body.queries, { total: 3, last24h: 3 });
  // Tenant B's own count is untouched by them.
  const { bob } = t.context.world;
  t.deepEqual((await stats(t, bob)).body.queries, { total: 0, last24h: 0 });
});
