import type { SourceLocation } from '../extract/document.ts';

/** A retrieved chunk as the answerer sees it; `n` is the number an answer cites it by: `[n]`. */
export interface ContextChunk {
  readonly n: number;
  readonly text: string;
  readonly documentId: string;
  readonly title: string;
  readonly location: SourceLocation;
}

export interface ConversationTurn {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

export interface AnswerRequest {
  readonly question: string;
  /** Best first. */
  readonly chunks: readonly ContextChunk[];
  /** Earlier turns of the conversation, oldest first. */
  readonly history?: readonly ConversationTurn[];
  readonly signal?: AbortSignal;
}

export interface Answer {
  readonly text: string;
  /** The `n` of every chunk the text cites, in order of first citation. */
  readonly citations: number[];
  readonly model: string;
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number };
  /** True when the text is quoted from the chunks rather than written by a language model. */
  readonly extractive: boolean;
}

export interface Answerer {
  readonly model: string;
  answer(request: AnswerRequest): Promise<Answer>;
}

export const NO_CONTEXT_ANSWER = 'I could not find anything relevant to this question in the available documents.';

/** The answer when retrieval found nothing usable: said plainly, citing nothing. */
export function noContextAnswer(model: string, extractive: boolean): Answer {
  return { text: NO_CONTEXT_ANSWER, citations: [], model, usage: { promptTokens: 0, completionTokens: 0 }, extractive };
}
