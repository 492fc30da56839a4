// Answers written by a chat model of any OpenAI-compatible endpoint, from the numbered context
// only; the citations are the [n] the reply actually uses.
import type OpenAI from 'openai';
import { PermanentProviderError } from '../errors.ts';
import { callProvider } from '../provider/classify.ts';
import { providerLabel } from '../provider/openai-client.ts';
import { noContextAnswer, type Answer, type Answerer, type AnswerRequest } from './answerer.ts';
import { parseCitations } from './citations.ts';
import { buildMessages } from './prompt.ts';

export interface OpenAIChatAnswererOptions {
  readonly client: OpenAI;
  readonly model: string;
  /** Left to the server's default when unset (some reasoning models accept no other value). */
  readonly temperature?: number;
  readonly maxHistoryTurns?: number;
}

export class OpenAIChatAnswerer implements Answerer {
  readonly model: string;
  private readonly client: OpenAI;
  private readonly temperature: number | undefined;
  private readonly maxHistoryTurns: number;
  private readonly provider: string;

  constructor(options: OpenAIChatAnswererOptions) {
    this.client = options.client;
    this.model = options.model;
    this.temperature = options.temperature;
    this.maxHistoryTurns = options.maxHistoryTurns ?? 10;
    this.provider = providerLabel(options.client);
  }

  async answer(request: AnswerRequest): Promise<Answer> {
    // Without context the model could only answer from its own knowledge, which is not grounded.
    if (request.chunks.length === 0) return noContextAnswer(this.model, false);
    const completion = await callProvider(this.provider, this.model, () =>
      this.client.chat.completions.create(
        {
          model: this.model,
          messages: buildMessages(request, this.maxHistoryTurns),
          ...(this.temperature === undefined ? {} : { temperature: this.temperature }),
        },
        { signal: request.signal },
      ),
    );
    const text = completion.choices[0]?.message.content?.trim();
    if (!text) {
      throw new PermanentProviderError(
        this.provider,
        this.model,
        undefined,
        `${this.provider} returned an empty answer`,
      );
    }
    return {
      text,
      citations: parseCitations(
        text,
        request.chunks.map((chunk) => chunk.n),
      ),
      model: completion.model || this.model,
      usage: {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
      },
      extractive: false,
    };
  }
}
