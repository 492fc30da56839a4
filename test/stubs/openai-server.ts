// A stand-in for an OpenAI-compatible API, speaking its real HTTP protocol so that the real
// openai SDK can talk to it: POST /v1/embeddings (float and base64 encodings) and
// POST /v1/chat/completions, both with `usage`. Vectors come from LocalHashEmbedder, so they
// are deterministic. Tests program failures with `failNext` and inspect `requests`.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalHashEmbedder } from '../../rag/embed/local-hash.ts';

export type Endpoint = 'embeddings' | 'chat';

/** What happens to the next request (of `endpoint`, when given) instead of a normal answer. */
export interface Fault {
  /** Answer with this HTTP status and an OpenAI-style error body. */
  readonly status?: number;
  readonly message?: string;
  readonly type?: string;
  readonly code?: string;
  /** Sent as `Retry-After`: delta-seconds, or an HTTP date when a string. */
  readonly retryAfter?: number | string;
  /** Drop the connection without answering: a network error for the client. */
  readonly disconnect?: boolean;
  /** Wait this long first; without `status` or `disconnect`, then answer normally. */
  readonly delayMs?: number;
  readonly endpoint?: Endpoint;
}

export interface RecordedRequest {
  readonly endpoint: Endpoint | 'other';
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
  /** The status answered, or 'disconnected'. */
  readonly outcome: number | 'disconnected';
}

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

export interface OpenAIStandInOptions {
  /** Vector size when a request does not ask for `dimensions`. */
  readonly dimensions?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or get 401. */
  readonly apiKey?: string;
  /** The assistant's reply; by default one that cites [1] when the prompt holds a passage [1]. */
  readonly chatReply?: (messages: readonly ChatMessage[]) => string;
}

const MAX_INPUTS = 2048;

export const DEFAULT_CHAT_REPLY = 'The documents answer this in the first passage [1].';
export const NO_CONTEXT_CHAT_REPLY = 'I could not find anything relevant to this question in the available documents.';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

const estimateTokens = (text: string) => Math.ceil(text.length / 4);

function textContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join('');
  }
  return '';
}

function defaultChatReply(messages: readonly ChatMessage[]): string {
  const prompt = messages.findLast((message) => message.role === 'user')?.content ?? '';
  return prompt.includes('[1]') ? DEFAULT_CHAT_REPLY : NO_CONTEXT_CHAT_REPLY;
}

export class OpenAIStandIn {
  readonly requests: RecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  private readonly dimensions: number;
  private readonly apiKey: string | undefined;
  private readonly chatReply: (messages: readonly ChatMessage[]) => string;
  private readonly embedders = new Map<number, LocalHashEmbedder>();
  private server: Server | undefined;

  constructor(options: OpenAIStandInOptions = {}) {
    this.dimensions = options.dimensions ?? 384;
    this.apiKey = options.apiKey;
    this.chatReply = options.chatReply ?? defaultChatReply;
  }

  /** Listens on a free port of 127.0.0.1 and returns the base URL, `http://127.0.0.1:PORT/v1`. */
  async start(): Promise<string> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => response.destroy(error as Error));
    });
    this.server = server;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return this.baseURL;
  }

  get baseURL(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('the stand-in server is not started');
    return `http://127.0.0.1:${address.port}/v1`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  /** Queues faults; each is used by one request, in order. */
  failNext(faults: readonly Fault[]): void {
    this.faults.push(...faults);
  }

  /** Forgets recorded requests and pending faults. */
  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
  }

  requestsTo(endpoint: Endpoint): RecordedRequest[] {
    return this.requests.filter((request) => request.endpoint === endpoint);
  }

  /** The number of inputs in each embeddings request received, in order. */
  embeddingBatchSizes(): number[] {
    return this.requestsTo('embeddings').map((request) => {
      const input = (request.body as { input?: unknown } | undefined)?.input;
      return Array.isArray(input) ? input.length : 1;
    });
  }

  private takeFault(endpoint: Endpoint | 'other'): Fault | undefined {
    const index = this.faults.findIndex((fault) => fault.endpoint === undefined || fault.endpoint === endpoint);
    return index === -1 ? undefined : this.faults.splice(index, 1)[0];
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://stand-in').pathname;
    const endpoint = path === '/v1/embeddings' ? 'embeddings' : path === '/v1/chat/completions' ? 'chat' : 'other';
    const raw = Buffer.concat(await request.toArray()).toString('utf8');
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = raw;
    }
    const record = (outcome: number | 'disconnected') =>
      this.requests.push({
        endpoint,
        method: request.method ?? 'GET',
        path,
        authorization: request.headers.authorization,
        body,
        outcome,
      });

    const fault = this.takeFault(endpoint);
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.disconnect) {
      record('disconnected');
      request.socket.destroy();
      return;
    }
    try {
      if (fault?.status !== undefined) {
        const message = fault.message ?? `Stand-in fault ${fault.status}`;
        throw new HttpError(fault.status, message, fault.type ?? errorType(fault.status), fault.code ?? null);
      }
      if (this.apiKey !== undefined && request.headers.authorization !== `Bearer ${this.apiKey}`) {
        throw new HttpError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      }
      if (request.method !== 'POST' || endpoint === 'other') {
        throw new HttpError(
          404,
          `Unknown request URL: ${request.method} ${path}.`,
          'invalid_request_error',
          'unknown_url',
        );
      }
      if (body === null || typeof body !== 'object') throw new HttpError(400, 'The request body is not valid JSON.');
      const answer = endpoint === 'embeddings' ? this.embeddings(body) : this.chat(body);
      record(200);
      send(response, 200, answer);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      record(error.status);
      const headers: Record<string, string> = {};
      if (fault?.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      send(
        response,
        error.status,
        { error: { message: error.message, type: error.type, param: null, code: error.code } },
        headers,
      );
    }
  }

  private embeddings(body: { model?: unknown; input?: unknown; encoding_format?: unknown; dimensions?: unknown }) {
    if (typeof body.model !== 'string' || body.model === '')
      throw new HttpError(400, 'you must provide a model parameter');
    const inputs: unknown[] =
      typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input : [];
    if (inputs.length === 0 || !inputs.every((input): input is string => typeof input === 'string' && input !== '')) {
      throw new HttpError(
        400,
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      );
    }
    if (inputs.length > MAX_INPUTS) {
      throw new HttpError(
        400,
        `'$.input' is too long: at most ${MAX_INPUTS} inputs per request, got ${inputs.length}.`,
      );
    }
    const dimensions = typeof body.dimensions === 'number' ? body.dimensions : this.dimensions;
    const embedder = this.embedders.get(dimensions) ?? new LocalHashEmbedder({ dimensions });
    this.embedders.set(dimensions, embedder);
    const base64 = body.encoding_format === 'base64';
    const tokens = inputs.reduce((sum, input) => sum + estimateTokens(input), 0);
    return {
      object: 'list',
      data: inputs.map((input, index) => {
        const vector = embedder.embedOne(input);
        const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
        return { object: 'embedding', index, embedding };
      }),
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  private chat(body: { model?: unknown; messages?: unknown }) {
    if (typeof body.model !== 'string' || body.model === '')
      throw new HttpError(400, 'you must provide a model parameter');
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      throw new HttpError(400, "'messages' must contain at least one message.");
    }
    const messages = body.messages.map((message: { role?: unknown; content?: unknown }) => ({
      role: typeof message.role === 'string' ? message.role : '',
      content: textContent(message.content),
    }));
    const reply = this.chatReply(messages);
    const promptTokens = messages.reduce((sum, message) => sum + estimateTokens(message.content) + 4, 0);
    const completionTokens = estimateTokens(reply);
    return {
      id: `chatcmpl-standin-${this.requests.length + 1}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      system_fingerprint: null,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: reply, refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    };
  }
}

function errorType(status: number): string {
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
    'x-request-id': `req_standin_${Date.now()}`,
    ...headers,
  });
  response.end(json);
}
