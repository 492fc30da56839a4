// Embedding, one batch per attempt: takes the version's next chunks that have no vector yet,
// embeds them (heartbeating during the provider call), and writes the vectors with their model
// and dimension in one statement. What is embedded is the chunk's indexed text: its contextual
// header (title and heading) before its content. Resuming after a lost worker needs no
// bookkeeping: the rows already written have their vectors, and only the rest are picked up again.
//
// Every vector is stored with the model and dimension that made it (and the tenant's models in
// embedding_models), and queries filter by model, so a tenant's older vectors of another model
// are never mixed in. Changing the model is therefore a re-embed job: a reprocess of every
// document, each switching to its new version only when that version is complete.
import { Context } from '@temporalio/activity';
import { countVersionChunks, pendingChunks, writeVectors, type VersionCounts } from '../../db/queries/chunks.ts';
import { updateJobProgress } from '../../db/queries/job-records.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { indexedText } from '../../rag/chunk.ts';
import { whileHeartbeating } from '../heartbeat.ts';
import { documentScope, versionOf, type DocumentActivityDeps, type VersionStep } from './scope.ts';

export function createEmbedActivities(deps: Pick<DocumentActivityDeps, 'pool' | 'embedder' | 'config'>) {
  const { pool, embedder, config } = deps;
  const model = { model: embedder.model, dimensions: embedder.dimensions };
  return {
    /** Embeds the next batch of the version; answers how many of its chunks now have vectors. */
    async embedChunks(input: VersionStep): Promise<VersionCounts> {
      const scope = documentScope(input.document);
      const target = versionOf(input);
      const pending = await withTenant(pool, scope, (tx) => pendingChunks(tx, target, config.EMBED_BATCH_SIZE));
      const { cancellationSignal } = Context.current();
      const vectors = await whileHeartbeating(
        () =>
          embedder.embed(
            pending.map((chunk) => indexedText({ header: chunk.header, text: chunk.content })),
            { signal: cancellationSignal },
          ),
        { pending: pending.length },
      );
      return withTenant(pool, scope, async (tx) => {
        await writeVectors(
          tx,
          model,
          pending.map((chunk, index) => ({ id: chunk.id, embedding: vectors[index]! })),
        );
        const counts = await countVersionChunks(tx, target);
        const progress = { step: 'embed', chunksEmbedded: counts.embedded, chunksTotal: counts.total };
        await updateJobProgress(tx, input.job, progress);
        return counts;
      });
    },
  };
}
