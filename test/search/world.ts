// The documents the search tests look for. Tenant A holds an orchard handbook, a lighthouse
// log, tide tables (version 1 active, version 2 still being built) and a private salary review
// of its owner. Tenant B holds an orchard document worded like A's, so that any leak between
// tenants would show up in the results.
import type { DatabasePool } from 'slonik';
import { withTenant } from '../../db/with-tenant.ts';
import { LocalHashEmbedder } from '../../rag/embed/local-hash.ts';
import { startVersion } from '../../db/queries/documents.ts';
import { seedDocument, writeEmbeddedChunks } from '../helpers/corpus.ts';

export const embedder = new LocalHashEmbedder();

export const TEXT = {
  pruning: 'Apple trees are pruned in late winter, before the buds break, to open the canopy to light.',
  irrigation: 'Drip irrigation delivers water to the roots of each tree and saves water in dry summers.',
  pests: 'Codling moth larvae tunnel into apples; pheromone traps monitor the moth flights in spring.',
  lamp: 'The lighthouse lamp was lit at dusk and the keeper wound the clockwork every four hours.',
  storm: 'During the storm of 1887 waves broke over the gallery and the keeper logged the barometer falling.',
  salary: 'Confidential salary review: the bonus pool for the orchard team is forty thousand euros.',
  tideV1: 'High tide at the harbour falls at noon on the first day of every month.',
  tideV2: 'Draft of version two: the tides were recalculated with the new harbour gauge.',
  theirs: 'Apple trees are pruned in late winter by the secret method of tenant B with golden shears.',
} as const;

export interface Party {
  readonly tenantId: string;
  readonly userId: string;
}

export interface SearchWorld {
  readonly handbook: { documentId: string; pruning: string; irrigation: string; pests: string };
  readonly log: { documentId: string; lamp: string; storm: string };
  readonly tides: { documentId: string; v1: string; v2: string };
  readonly salary: { documentId: string; chunkId: string };
  readonly theirs: { documentId: string; chunkId: string };
}

/** Seeds tenant A (owned by `a.userId`, who also owns the private document) and tenant B. */
export async function seedSearchWorld(pool: DatabasePool, a: Party, b: Party): Promise<SearchWorld> {
  const theirs = await withTenant(pool, b, (tx) =>
    seedDocument(tx, embedder, b.tenantId, {
      title: 'Orchard secrets',
      ownerUserId: b.userId,
      tags: ['farming', 'guide', 'history'],
      byteSize: 7000,
      chunks: [{ content: TEXT.theirs }],
    }),
  );
  return withTenant(pool, a, async (tx) => {
    const handbook = await seedDocument(tx, embedder, a.tenantId, {
      title: 'Orchard handbook',
      ownerUserId: a.userId,
      tags: ['farming', 'guide'],
      source: 'text',
      byteSize: 3000,
      chunks: [
        { content: TEXT.pruning, heading: 'Pruning', page: 1 },
        { content: TEXT.irrigation, heading: 'Irrigation', page: 2 },
        { content: TEXT.pests, heading: 'Pests', page: 3 },
      ],
    });
    const log = await seedDocument(tx, embedder, a.tenantId, {
      title: 'Lighthouse keeper’s log',
      ownerUserId: a.userId,
      tags: ['history'],
      source: 'upload',
      byteSize: 2000,
      chunks: [{ content: TEXT.lamp }, { content: TEXT.storm }],
    });
    const tides = await seedDocument(tx, embedder, a.tenantId, {
      title: 'Tide tables',
      ownerUserId: a.userId,
      byteSize: 500,
      chunks: [{ content: TEXT.tideV1 }],
    });
    // A re-ingestion under way: version 2 is written but not active.
    await startVersion(tx, tides.documentId, 2);
    const [v2] = await writeEmbeddedChunks(tx, embedder, {
      documentId: tides.documentId,
      version: 2,
      chunks: [{ content: TEXT.tideV2 }],
    });
    const salary = await seedDocument(tx, embedder, a.tenantId, {
      title: 'Salary review',
      ownerUserId: a.userId,
      visibility: 'private',
      byteSize: 100,
      chunks: [{ content: TEXT.salary }],
    });
    const [pruning, irrigation, pests] = handbook.chunkIds as [string, string, string];
    const [lamp, storm] = log.chunkIds as [string, string];
    return {
      handbook: { documentId: handbook.documentId, pruning, irrigation, pests },
      log: { documentId: log.documentId, lamp, storm },
      tides: { documentId: tides.documentId, v1: tides.chunkIds[0]!, v2: v2! },
      salary: { documentId: salary.documentId, chunkId: salary.chunkIds[0]! },
      theirs: { documentId: theirs.documentId, chunkId: theirs.chunkIds[0]! },
    };
  });
}
