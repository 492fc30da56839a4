// The neural embedder end to end: documents ingested by a worker embedding with the real model
// (in its thread), then searched densely through the API, which embeds the query with it too.
// A paraphrase that shares no word with its document finds it, as the hash embedder cannot;
// and the process's event loop, where the API and the worker run, keeps turning and answering
// while a long document is embedded.
import anyTest, { type TestFn } from 'ava';
import { call, tenantOwner, type Account } from '../api/harness.ts';
import { LocalHashEmbedder } from '../../rag/embed/local-hash.ts';
import { chunkStats, postText, settled, withDocuments, type DocumentsTestContext } from './harness.ts';

const test = withDocuments(anyTest as TestFn<DocumentsTestContext>, {
  EMBEDDING_PROVIDER: 'onnx',
  EMBEDDING_MODEL: 'all-MiniLM-L6-v2',
  EMBEDDING_DIMENSIONS: '384',
});

type Caller = Account & { tenantId: string };

const DOCUMENTS = {
  refunds: 'Reimbursements are credited to the card used for the purchase within five working days.',
  glaciers: 'Alpine ice sheets are shrinking each summer, and their meltwater swells the rivers below.',
  kitchen: 'Knead the dough, leave it to prove overnight, then bake it in a very hot oven.',
};
const QUERY = 'can I get a refund';

async function ingest(t: { context: DocumentsTestContext }, owner: Caller, title: string, text: string) {
  const posted = await postText(t.context.docs.api, owner, { title, text });
  if (posted.status !== 201) throw new Error(`upload answered ${posted.status}`);
  return (await settled(t.context.docs.api, owner, posted.body.id)).body as { id: string; status: string };
}

test.serial('a dense search finds a document by a paraphrase that shares none of its words', async (t) => {
  const owner = await tenantOwner(t.context.docs.api);
  const ids: Record<string, string> = {};
  for (const [title, text] of Object.entries(DOCUMENTS)) {
    const document = await ingest(t, owner, title, text);
    t.is(document.status, 'completed');
    ids[title] = document.id;
  }
  // A guard that the query is a real paraphrase: the hash embedder does not rank it first.
  const hash = new LocalHashEmbedder();
  const [query, ...documents] = [QUERY, ...Object.values(DOCUMENTS)].map((text) => hash.embedOne(text));
  const hashScores = documents.map((vector) => vector.reduce((sum, value, i) => sum + value * query![i]!, 0));
  t.not(hashScores.indexOf(Math.max(...hashScores)), 0);

  const reply = await call(t.context.docs.api, 'POST', '/v1/search', {
    token: owner.token,
    tenantId: owner.tenantId,
    body: { query: QUERY, mode: 'dense', k: 3 },
  });
  t.is(reply.status, 200);
  t.is(reply.body.results.length, 3);
  t.is(reply.body.results[0].documentId, ids.refunds);
  t.true(reply.body.results[0].scores.dense.score > reply.body.results[1].scores.dense.score + 0.1);
});

test.serial('the API keeps answering while a long document is embedded', async (t) => {
  const owner = await tenantOwner(t.context.docs.api);
  const paragraph = (i: number) =>
    `Section ${i}. ${Object.values(DOCUMENTS).join(' ')} The survey of site ${i} was repeated in spring, ` +
    `when the instruments were recalibrated and every reading of the previous season was checked twice. `.repeat(4);
  // 300 sections: several seconds of inference even on two idle cores.
  const text = Array.from({ length: 300 }, (_, i) => paragraph(i)).join('\n\n');

  const ticks = { count: 0 };
  const timer = setInterval(() => ticks.count++, 10);
  const probes: number[] = [];
  let embedding = true;
  const probing = (async () => {
    while (embedding) {
      const started = performance.now();
      const reply = await call(t.context.docs.api, 'GET', '/healthz');
      if (reply.status !== 200) throw new Error(`/healthz answered ${reply.status}`);
      probes.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const started = performance.now();
  let document: { id: string; status: string };
  try {
    document = await ingest(t, owner, 'Field survey', text);
    t.is(document.status, 'completed');
  } finally {
    embedding = false;
    clearInterval(timer);
    await probing;
  }
  const elapsed = performance.now() - started;
  const [stats] = await chunkStats(t.context.docs.api, owner, document.id);
  t.true(stats!.chunks >= 20 && stats!.embedded === stats!.chunks, JSON.stringify(stats));
  // Dozens of 256-token passages: seconds of inference, during which a blocked event loop
  // would fire its 10 ms timer about once per passage, and hold every probe for the duration.
  t.true(elapsed > 2000, `ingestion took ${elapsed.toFixed(0)} ms`);
  t.true(ticks.count > elapsed / 10 / 3, `${ticks.count} ticks in ${elapsed.toFixed(0)} ms`);
  t.true(probes.length > elapsed / 1000, `${probes.length} probes in ${elapsed.toFixed(0)} ms`);
  t.true(Math.max(...probes) < 1000, `slowest probe ${Math.max(...probes).toFixed(0)} ms`);
});
