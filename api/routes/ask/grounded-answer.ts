// A grounded answer, in two steps so that no transaction stays open while a model writes:
// retrieve() runs the prepared hybrid search for the question in the caller's transaction;
// answerFrom() gives them to the answerer as its only context and resolves the answer's
// citations back to those chunks.
import type { Citation, ContextRef } from '../../../db/queries/messages.ts';
import { locationOf, type ChunkHit } from '../../../db/queries/search/hits.ts';
import type { TenantConnection } from '../../../db/with-tenant.ts';
import type { Answer, Answerer, ConversationTurn } from '../../../rag/answer/answerer.ts';
import { mailSourceOf } from '../../../search/mail-source.ts';
import { runSearch, type PreparedSearch } from '../../../search/service.ts';

export type ContextHit = Omit<ChunkHit, 'score'>;

/** The best `k` chunks for the question (already embedded), best first: the answer's context. */
export async function retrieve(tx: TenantConnection, question: PreparedSearch): Promise<ContextHit[]> {
  const { results } = await runSearch(tx, question);
  return results.map(({ hit }) => hit);
}

export interface GroundedAnswer {
  readonly answer: Answer;
  /** The chunks the answerer was given, numbered as it cites them. */
  readonly context: ContextRef[];
  /** The chunks the answer cites, in order of first citation. */
  readonly citations: Citation[];
}

export async function answerFrom(
  answerer: Answerer,
  input: { question: string; hits: readonly ContextHit[]; history?: readonly ConversationTurn[] },
): Promise<GroundedAnswer> {
  const context: ContextRef[] = input.hits.map((hit, index) => ({
    n: index + 1,
    documentId: hit.documentId,
    chunkId: hit.chunkId,
    version: hit.version,
    title: hit.title,
    location: locationOf(hit),
    mail: mailSourceOf(hit),
  }));
  const answer = await answerer.answer({
    question: input.question,
    history: input.history,
    chunks: input.hits.map((hit, index) => ({
      n: index + 1,
      text: hit.text,
      documentId: hit.documentId,
      // A mail is named as a reader would cite it, with its sender and date.
      title: context[index]!.mail?.label ?? hit.title,
      location: { page: hit.page ?? undefined, heading: hit.heading ?? undefined },
    })),
  });
  const citations = answer.citations.flatMap((n) => {
    const cited = context[n - 1];
    if (!cited) return [];
    const { version: _version, ...citation } = cited;
    return [citation];
  });
  return { answer, context, citations };
}
