// Fits embedding inputs into provider limits without a tokenizer: token counts are estimated,
// over-long inputs are cut into pieces, and pieces are packed into requests.

export interface EmbeddingLimits {
  readonly maxInputsPerRequest: number;
  readonly maxTokensPerRequest: number;
  readonly maxTokensPerInput: number;
}

/**
 * OpenAI's limits are 2048 inputs, 300k tokens per request and 8192 tokens per input. The token
 * budgets keep a 20% margin because the count below is an estimate, not the model's tokenizer.
 */
export const OPENAI_EMBEDDING_LIMITS: EmbeddingLimits = {
  maxInputsPerRequest: 2048,
  maxTokensPerRequest: 240_000,
  maxTokensPerInput: 6_500,
};

/** About four ASCII characters per token (OpenAI's rule of thumb); other scripts one per character. */
function tokenCost(character: string): number {
  return character.charCodeAt(0) < 0x80 ? 0.25 : 1;
}

export function estimateTokens(text: string): number {
  let cost = 0;
  for (const character of text) cost += tokenCost(character);
  return Math.ceil(cost);
}

/**
 * Cuts a text into consecutive pieces of at most `maxTokens` estimated tokens, at whitespace
 * when there is some in the second half of a piece. Joined, the pieces give the text back.
 */
export function splitByTokens(text: string, maxTokens: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let cost = 0;
    let end = start;
    let lastSpace = -1;
    while (end < text.length) {
      const character = String.fromCodePoint(text.codePointAt(end)!);
      if (cost + tokenCost(character) > maxTokens) break;
      cost += tokenCost(character);
      end += character.length;
      if (/\s/.test(character)) lastSpace = end;
    }
    if (end === start)
      end += String.fromCodePoint(text.codePointAt(end)!).length; // a budget below one character
    else if (end < text.length && lastSpace > start + (end - start) / 2) end = lastSpace;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces.length === 0 ? [text] : pieces;
}

/** Packs consecutive inputs into requests within both limits: returns [start, end) ranges. */
export function planBatches(tokenCounts: readonly number[], limits: EmbeddingLimits): Array<[number, number]> {
  const batches: Array<[number, number]> = [];
  let start = 0;
  let tokens = 0;
  for (const [index, count] of tokenCounts.entries()) {
    const full = index - start >= limits.maxInputsPerRequest || tokens + count > limits.maxTokensPerRequest;
    if (full && index > start) {
      batches.push([start, index]);
      start = index;
      tokens = 0;
    }
    tokens += count;
  }
  if (start < tokenCounts.length) batches.push([start, tokenCounts.length]);
  return batches;
}
