// Lexical search over documents ingested through the API: words beside typographic
// punctuation, split across a line by hyphenation, or written in CJK are found; a document in
// another language is indexed with the simple configuration; chunks are never below the
// minimum size; and the contextual header (title and heading) is indexed but never quoted.
import anyTest, { type TestFn } from 'ava';
import { sql } from 'slonik';
import { z } from 'zod';
import { withTenant } from '../../db/with-tenant.ts';
import { defaultMinChunkSize } from '../../rag/chunk.ts';
import { call, tenantOwner, type Account } from '../api/harness.ts';
import { postText, settled, uploadFile, withDocuments, type DocumentsTestContext } from './harness.ts';

const CHUNK_SIZE = 400;
const test = withDocuments(anyTest as TestFn<DocumentsTestContext>, { CHUNK_SIZE: String(CHUNK_SIZE) });

type Owner = Account & { tenantId: string };

async function ingest(t: { context: DocumentsTestContext }, owner: Owner, title: string, text: string) {
  const created = await postText(t.context.docs.api, owner, { title, text });
  if (created.status !== 201 && created.status !== 202) throw new Error(JSON.stringify(created.body));
  const detail = await settled(t.context.docs.api, owner, created.body.id);
  if (detail.body.status !== 'completed') throw new Error(`not completed: ${JSON.stringify(detail.body)}`);
  return created.body.id as string;
}

interface Result {
  documentId: string;
  text: string;
}

async function lexical(t: { context: DocumentsTestContext }, owner: Owner, query: string): Promise<Result[]> {
  const reply = await call(t.context.docs.api, 'POST', '/v1/search', {
    token: owner.token,
    tenantId: owner.tenantId,
    body: { query, mode: 'lexical', k: 20 },
  });
  if (reply.status !== 200) throw new Error(JSON.stringify(reply.body));
  return reply.body.results as Result[];
}

const ChunkRow = z.object({ content: z.string(), header: z.string().nullable(), tsConfig: z.string() });

function chunksOf(t: { context: DocumentsTestContext }, owner: Owner, documentId: string) {
  return withTenant(t.context.docs.api.owner, { tenantId: owner.tenantId, userId: owner.userId }, (tx) =>
    tx.any(sql.type(ChunkRow)`
      SELECT content, header, ts_config AS "tsConfig" FROM chunks WHERE document_id = ${documentId} ORDER BY ordinal
    `),
  );
}

const TYPOGRAPHIC = [
  'The board met on Sunday’s call and the “quarterly” figures were approved—unanimously, with the',
  'dates 2019–2020 noted. Morbi tris-',
  'tique senectus et netus; a well-',
  'Known state-of-the-',
  'art crusher «broyeur» was ordered.',
].join('\n');

test('words beside curly quotes, dashes and guillemets, and words hyphenated across a line, are found', async (t) => {
  const owner = await tenantOwner(t.context.docs.api);
  const documentId = await ingest(t, owner, 'Minutes', TYPOGRAPHIC);
  // Every query must find the document: each word sits next to punctuation the parser
  // used to glue to it, or was cut by a line-end hyphen.
  for (const query of ['quarterly', 'Sunday', 'approved', 'unanimously', 'tristique', 'broyeur', '2020']) {
    const results = await lexical(t, owner, query);
    t.deepEqual(
      results.map((result) => result.documentId),
      [documentId],
      query,
    );
  }
  // The compound across the line ends is kept whole, with its parts.
  for (const query of ['state-of-the-art', 'well-known', 'known']) {
    t.is((await lexical(t, owner, query)).length, 1, query);
  }
  // What is quoted is the text as written.
  const [result] = await lexical(t, owner, 'tristique');
  t.is(result?.text, TYPOGRAPHIC);
});

test('japanese text is indexed with the simple configuration and its words are found', async (t) => {
  const owner = await tenantOwner(t.context.docs.api);
  const text = 'すみません。東京都の採石場は、月曜日に休みます。「花崗岩」の出荷は火曜日です。';
  const documentId = await ingest(t, owner, '採石場のお知らせ', text);
  t.deepEqual(
    (await chunksOf(t, owner, documentId)).map((chunk) => chunk.tsConfig),
    ['simple'],
  );
  for (const query of ['すみません', '花崗岩', '東京', '月曜日', '"採石場は"']) {
    t.deepEqual(
      (await lexical(t, owner, query)).map((result) => result.documentId),
      [documentId],
      query,
    );
  }
  t.deepEqual(await lexical(t, owner, '大阪'), []);
});

test('english text is stemmed and a french one is matched word for word', async (t) => {
  const owner = await tenantOwner(t.context.docs.api);
  const english = await ingest(
    t,
    owner,
    'Crushers',
    'The crushers in the north pit were running at full load for most of the week, and the operators ' +
      'said that the new jaw plates were holding up well against the harder granite from the lower bench.',
  );
  const french = await ingest(
    t,
    owner,
    'Concasseurs',
    'Les concasseurs de la carrière nord tournaient à pleine charge pendant presque toute la semaine, ' +
      'et les opérateurs ont constaté que les nouvelles mâchoires résistaient bien au granit plus dur du gradin.',
  );
  t.is((await chunksOf(t, owner, english))[0]?.tsConfig, 'english');
  t.is((await chunksOf(t, owner, french))[0]?.tsConfig, 'simple');
  t.deepEqual(
    (await lexical(t, owner, 'crusher operator')).map((result) => result.documentId),
    [english],
  );
  t.deepEqual(
    (await lexical(t, owner, 'concasseurs mâchoires')).map((result) => result.documentId),
    [french],
  );
});

test('no chunk of an ingested document is below the minimum size, except a whole short document', async (t) => {
  const owner = await tenantOwner(t.context.docs.api);
  const min = defaultMinChunkSize(CHUNK_SIZE);
  // Paragraphs so long that the splitter can put nothing beside them: every short line
  // between them would be a chunk of its own without merging.
  const paragraph = (n: number) =>
    `Bench ${n} was drilled, blasted and cleared; the muck pile went to the primary crusher. `
      .repeat(5)
      .slice(0, CHUNK_SIZE - 20)
      .trimEnd();
  const parts = [
    'Quarry diary',
    'A short note.',
    paragraph(1),
    'Week two',
    paragraph(2),
    'Tail.',
    paragraph(3),
    'End.',
  ];
  const long = await chunksOf(t, owner, await ingest(t, owner, 'Diary', parts.join('\n\n')));
  t.is(long.length, 3);
  for (const chunk of long) t.true(chunk.content.length >= min, chunk.content);
  // Nothing was lost: every paragraph and fragment is in some chunk.
  for (const part of parts) {
    t.true(
      long.some((chunk) => chunk.content.includes(part)),
      part,
    );
  }

  const short = await chunksOf(t, owner, await ingest(t, owner, 'Note', 'Gate closes at six.'));
  t.deepEqual(
    short.map((chunk) => chunk.content),
    ['Gate closes at six.'],
  );
});

test('the title and heading are indexed with each chunk but neither quoted nor answered from', async (t) => {
  const { api } = t.context.docs;
  const owner = await tenantOwner(api);
  const text = '## Shipping\n\nThe barges leave the jetty every Thursday, weather allowing.';
  const upload = await uploadFile(api, owner, {
    filename: 'shipping.md',
    mimeType: 'text/markdown',
    bytes: Buffer.from(text),
    fields: { title: 'Obsidian ledger' },
  });
  t.is(upload.status, 201);
  const documentId = upload.body.id as string;
  t.is((await settled(api, owner, documentId)).body.status, 'completed');
  t.deepEqual(
    (await chunksOf(t, owner, documentId)).map((chunk) => chunk.header),
    ['Obsidian ledger\nShipping'],
  );

  // "obsidian" is in the title alone.
  const found = await lexical(t, owner, 'obsidian barges');
  t.deepEqual(
    found.map((result) => result.documentId),
    [documentId],
  );
  t.is(found[0]?.text, text);

  const asked = await call(api, 'POST', '/v1/ask', {
    token: owner.token,
    tenantId: owner.tenantId,
    body: { question: 'When do the obsidian barges leave?' },
  });
  t.is(asked.status, 200);
  t.true(asked.body.answer.includes('every Thursday'), asked.body.answer);
  t.false(asked.body.answer.toLowerCase().includes('obsidian'), asked.body.answer);
  t.deepEqual(
    asked.body.context.map((source: { documentId: string }) => source.documentId),
    [documentId],
  );
});
