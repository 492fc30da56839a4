// The benchmark's data set: tenants holding 0.1%, 1%, 10% and 50% of the chunks, the rest
// spread over filler tenants. Documents of ten chunks each are written in rounds that
// interleave the tenants, as rows arrive in a shared table over time, through the same
// batched INSERT … SELECT that ingestion uses, under each tenant's own context.
import type { DatabasePool } from 'slonik';
import { withTenant } from '../../db/with-tenant.ts';
import type { LocalHashEmbedder } from '../../rag/embed/local-hash.ts';
import { insertChunks } from '../../db/queries/chunks.ts';
import { activate, chunkRows, createDocument } from '../../test/helpers/corpus.ts';
import { createTenantWithOwner } from '../../test/helpers/fixtures.ts';
import { chunkText, seededRandom, type CorpusModel, type Random } from './corpus.ts';

export const CHUNKS_PER_DOCUMENT = 10;
const ROUNDS = 50;

export interface TenantPlan {
  readonly label: string;
  /** Share of all chunks. */
  readonly share: number;
  readonly documents: number;
  /** Whether recall and latency are measured for it (filler tenants only take space). */
  readonly measured: boolean;
}

export const MEASURED_SHARES = [0.001, 0.01, 0.1, 0.5] as const;
const FILLER_TENANTS = 4;

export function planTenants(totalChunks: number): TenantPlan[] {
  const documents = (share: number) => Math.max(1, Math.round((share * totalChunks) / CHUNKS_PER_DOCUMENT));
  const measured = MEASURED_SHARES.map((share) => ({
    label: `${share * 100}%`,
    share,
    documents: documents(share),
    measured: true,
  }));
  const fillerShare = (1 - MEASURED_SHARES.reduce((sum, share) => sum + share, 0)) / FILLER_TENANTS;
  const fillers = Array.from({ length: FILLER_TENANTS }, (_, i) => ({
    label: `filler ${i + 1}`,
    share: fillerShare,
    documents: documents(fillerShare),
    measured: false,
  }));
  return [...measured, ...fillers];
}

export interface LoadedTenant extends TenantPlan {
  readonly tenantId: string;
  readonly userId: string;
  readonly chunks: number;
  /** The topic of each of its documents, to ask about. */
  readonly topics: readonly number[];
}

interface PlannedDocument {
  readonly topic: number;
  readonly texts: readonly string[];
}

function planDocument(model: CorpusModel, random: Random): PlannedDocument {
  const topic = Math.floor(random() * model.topics.length);
  const texts = Array.from({ length: CHUNKS_PER_DOCUMENT }, () =>
    chunkText(model, random, random() < 0.7 ? topic : Math.floor(random() * model.topics.length)),
  );
  return { topic, texts };
}

interface PreparedBatch {
  readonly tenant: { readonly tenantId: string; readonly userId: string };
  readonly documents: readonly PlannedDocument[];
  readonly vectors: readonly (readonly number[][])[];
}

function prepareBatch(
  embedder: LocalHashEmbedder,
  tenant: PreparedBatch['tenant'],
  documents: readonly PlannedDocument[],
): PreparedBatch {
  return {
    tenant,
    documents,
    vectors: documents.map((document) => document.texts.map((text) => embedder.embedOne(text))),
  };
}

/** One transaction per batch: the documents, all their chunks in one INSERT, then activation. */
async function writeBatch(pool: DatabasePool, model: string, batch: PreparedBatch): Promise<void> {
  const { tenant, documents, vectors } = batch;
  await withTenant(pool, tenant, async (tx) => {
    const ids: string[] = [];
    for (const document of documents) {
      const title = `Document about topic ${document.topic}`;
      ids.push(await createDocument(tx, tenant.tenantId, { title, ownerUserId: tenant.userId, byteSize: 6000 }));
    }
    const rows = documents.flatMap((document, d) =>
      chunkRows({
        documentId: ids[d]!,
        version: 1,
        model,
        chunks: document.texts.map((content) => ({ content })),
        vectors: vectors[d]!,
      }),
    );
    await insertChunks(tx, rows);
    for (const id of ids) await activate(tx, id, 1);
  });
}

/**
 * Creates the tenants and writes their documents. Each round's rows are generated and
 * embedded while the previous round's INSERT runs in PostgreSQL.
 */
export async function loadDataset(
  pool: DatabasePool,
  embedder: LocalHashEmbedder,
  model: CorpusModel,
  plans: readonly TenantPlan[],
  seed: number,
  progress: (done: number, total: number) => void = () => {},
): Promise<LoadedTenant[]> {
  const random = seededRandom(seed);
  const owners = await Promise.all(plans.map(() => createTenantWithOwner(pool)));
  const topics: number[][] = plans.map(() => []);
  const totalDocuments = plans.reduce((sum, plan) => sum + plan.documents, 0);
  let written = 0;
  // Two stages: the next batch is generated and embedded while PostgreSQL writes the last one.
  let inFlight: Promise<number> = Promise.resolve(0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [t, plan] of plans.entries()) {
      const from = Math.floor((plan.documents * round) / ROUNDS);
      const to = Math.floor((plan.documents * (round + 1)) / ROUNDS);
      if (to === from) continue;
      const documents = Array.from({ length: to - from }, () => planDocument(model, random));
      topics[t]!.push(...documents.map((document) => document.topic));
      const batch = prepareBatch(embedder, owners[t]!, documents);
      written += await inFlight;
      progress(written, totalDocuments);
      inFlight = writeBatch(pool, embedder.model, batch).then(() => documents.length);
    }
  }
  written += await inFlight;
  progress(written, totalDocuments);
  return plans.map((plan, t) => ({
    ...plan,
    tenantId: owners[t]!.tenantId,
    userId: owners[t]!.userId,
    chunks: plan.documents * CHUNKS_PER_DOCUMENT,
    topics: topics[t]!,
  }));
}
