// The chat prompt: a system message that confines the model to the numbered context, the
// conversation so far, then the context passages and the question.
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { SourceLocation } from '../extract/document.ts';
import type { AnswerRequest, ContextChunk } from './answerer.ts';
import { NO_CONTEXT_ANSWER } from './answerer.ts';

export const SYSTEM_PROMPT = [
  'You answer questions using only the numbered context passages in the user message.',
  'Cite the passage behind every statement with its number in square brackets, such as [1] or [2][3].',
  'Do not use outside knowledge and do not cite numbers that are not in the context.',
  `If the context does not answer the question, reply exactly: "${NO_CONTEXT_ANSWER}"`,
  'Answer concisely, in the language of the question.',
].join('\n');

export function describeLocation(location: SourceLocation): string {
  const parts = [
    location.page === undefined ? undefined : `page ${location.page}`,
    location.heading === undefined ? undefined : `section "${location.heading}"`,
  ];
  return parts.filter(Boolean).join(', ');
}

function renderChunk(chunk: ContextChunk): string {
  const where = describeLocation(chunk.location);
  return `[${chunk.n}] ${chunk.title}${where ? ` (${where})` : ''}\n${chunk.text}`;
}

export function buildMessages(request: AnswerRequest, maxHistoryTurns: number): ChatCompletionMessageParam[] {
  const history = (request.history ?? []).slice(-maxHistoryTurns);
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    ...history.map((turn): ChatCompletionMessageParam => ({ role: turn.role, content: turn.content })),
    {
      role: 'user',
      content: `Context:\n\n${request.chunks.map(renderChunk).join('\n\n')}\n\nQuestion: ${request.question}`,
    },
  ];
}
