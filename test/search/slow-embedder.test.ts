// A slow embedding provider holds no pooled connection. The app gets a pool of one connection
// and an embedder that takes 2 s per call; while a search or an ask waits on it, another
// request of the same tenant (listing documents) is served at once, not after the embedding.
import { setTimeout as sleep } from 'node:timers/promises';
import anyTest, { type TestFn } from 'ava';
import type { Embedder } from '../../rag/embed/embedder.ts';
import { call } from '../api/harness.ts';
import { withSearchWorld, type SearchApiContext } from './api-world.ts';
import { embedder as fast } from './world.ts';

const EMBED_MS = 2000;

/** The world's embedder, 2 s slower; `started` resolves each time a call begins. */
class SlowEmbedder implements Embedder {
  readonly model = fast.model;
  readonly dimensions = fast.dimensions;
  #waiting: (() => void)[] = [];

  /** Resolves when the next embedding call begins. */
  started(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    for (const resolve of this.#waiting.splice(0)) resolve();
    await sleep(EMBED_MS);
    return fast.embed(texts);
  }
}

const slow = new SlowEmbedder();
const test = withSearchWorld(anyTest as TestFn<SearchApiContext>, {}, { maxPoolSize: 1, embedder: slow });

/** Sends `request` and, once it waits on the embedder, lists documents; returns who answered first. */
async function listWhileEmbedding(t: { context: SearchApiContext }, request: () => ReturnType<typeof call>) {
  const { api, world } = t.context;
  const order: string[] = [];
  const started = slow.started();
  const slowReply = request().then((reply) => {
    order.push('embedding request');
    return reply;
  });
  await started;
  const listStarted = performance.now();
  const list = await call(api, 'GET', '/v1/documents', { token: world.mia.token, tenantId: world.mia.tenantId });
  order.push('document list');
  const listMs = performance.now() - listStarted;
  return { order, list, listMs, reply: await slowReply };
}

test.serial('a search waiting on the embedder does not hold the only pooled connection', async (t) => {
  const { world } = t.context;
  const { order, list, listMs, reply } = await listWhileEmbedding(t, () =>
    call(t.context.api, 'POST', '/v1/search', {
      token: world.mia.token,
      tenantId: world.mia.tenantId,
      body: { query: 'when are apple trees pruned', mode: 'dense' },
    }),
  );
  t.is(list.status, 200);
  t.true(list.body.documents.length > 0);
  t.is(reply.status, 200);
  t.is(reply.body.results[0]?.chunkId, world.docs.handbook.pruning);
  t.deepEqual(order, ['document list', 'embedding request'], `the list took ${Math.round(listMs)} ms`);
});

test.serial('an ask waiting on the embedder does not hold the only pooled connection', async (t) => {
  const { world } = t.context;
  const { order, list, reply } = await listWhileEmbedding(t, () =>
    call(t.context.api, 'POST', '/v1/ask', {
      token: world.mia.token,
      tenantId: world.mia.tenantId,
      body: { question: 'when are apple trees pruned?' },
    }),
  );
  t.is(list.status, 200);
  t.is(reply.status, 200);
  t.true(reply.body.citations.length > 0);
  t.deepEqual(order, ['document list', 'embedding request']);
});
