// Runs each extraction in a worker thread of its own, so that no document can take the
// process's memory or time: the thread's V8 heap is capped (resourceLimits), a wall-clock timer
// terminates it, and a queue lets only a few threads run at once. A thread that runs out of
// memory becomes DocumentTooLargeError, one that runs out of time ExtractionTimeoutError; both
// are permanent, as the same bytes would do the same again.
//
// A fresh thread per document (rather than a pool of long-lived ones) costs ~0.1 s plus the
// format's parser loading, and means no parser state or garbage outlives its document.
//
// Except for small plain text and Markdown: their extractors are a decoder and a line scanner,
// linear in their input and with no parser to exploit, so up to IN_PROCESS_MAX_BYTES they run in
// the calling thread. Starting a thread (and loading the extractors into it) took ~0.5 s of CPU
// per document, far more than extracting an abstract; with two threads at a time it capped an
// import of short documents at ~4 per second (see bench/results/ingest.md, small documents).
import { Worker } from 'node:worker_threads';
import PQueue from 'p-queue';
import {
  CorruptDocumentError,
  DocumentTooLargeError,
  EmptyDocumentError,
  EncryptedDocumentError,
  ExtractionTimeoutError,
  UnsupportedFormatError,
  type DocumentError,
} from '../errors.ts';
import { charsetOf } from './decode.ts';
import { identifyFormat } from './detect.ts';
import type { DocumentFormat, ExtractedDocument } from './document.ts';
import type { Config } from '../../config.ts';
import { extractFormat } from './index.ts';
import { extractionLimits, type ExtractionLimits, type ExtractionLimitsConfig } from './limits.ts';
import type { ExtractionTask, SerializedDocumentError, ThreadReply } from './sandbox-thread.ts';

export interface SandboxOptions {
  readonly limits: ExtractionLimits;
  /** The V8 heap (old generation) of one extraction thread, in MiB. */
  readonly heapMb: number;
  readonly timeoutMs: number;
  /** Extraction threads that may run at once; later extractions wait for a free one. */
  readonly concurrency: number;
}

export type SandboxConfig = ExtractionLimitsConfig &
  Pick<Config, 'EXTRACT_HEAP_MB' | 'EXTRACT_TIMEOUT_SECONDS' | 'EXTRACT_CONCURRENCY'>;

export function sandboxOptions(config: SandboxConfig): SandboxOptions {
  return {
    limits: extractionLimits(config),
    heapMb: config.EXTRACT_HEAP_MB,
    timeoutMs: config.EXTRACT_TIMEOUT_SECONDS * 1000,
    concurrency: config.EXTRACT_CONCURRENCY,
  };
}

export interface SandboxInput {
  readonly bytes: Uint8Array;
  readonly filename: string;
  readonly mimeType?: string;
}

/** Plain text and Markdown up to this size are extracted in the calling thread (see above). */
export const IN_PROCESS_MAX_BYTES = 1024 * 1024;
const IN_PROCESS_FORMATS: ReadonlySet<DocumentFormat> = new Set(['txt', 'md']);

const THREAD = new URL('./sandbox-thread.ts', import.meta.url);

const DOCUMENT_ERRORS: Record<string, abstract new (...args: never[]) => DocumentError> = {
  CorruptDocumentError,
  DocumentTooLargeError,
  EmptyDocumentError,
  EncryptedDocumentError,
  ExtractionTimeoutError,
  UnsupportedFormatError,
};

/**
 * The DocumentError again, of its own class: a native Error made with the class as new.target
 * (so without running its constructor, whose arguments differ by class) and given its fields.
 */
function revive(task: ExtractionTask, serialized: SerializedDocumentError): DocumentError {
  const type = DOCUMENT_ERRORS[serialized.name];
  if (!type) return new CorruptDocumentError(task.filename, task.format, serialized.message);
  const error = Reflect.construct(Error, [serialized.message], type) as DocumentError;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return Object.assign(error, serialized.fields);
}

export class ExtractionSandbox {
  private readonly queue: PQueue;

  constructor(private readonly options: SandboxOptions) {
    this.queue = new PQueue({ concurrency: options.concurrency });
  }

  /**
   * Detects the format here (a cheap look at names and leading bytes), then extracts in a
   * thread. An aborted `signal` takes the extraction out of the queue or ends its thread.
   */
  async extract(input: SandboxInput, signal?: AbortSignal): Promise<ExtractedDocument> {
    const { format } = await identifyFormat(input.bytes, input.filename, input.mimeType);
    const charset = charsetOf(input.mimeType);
    const task: ExtractionTask = {
      format,
      bytes: input.bytes,
      filename: input.filename,
      limits: this.options.limits,
      ...(charset === undefined ? {} : { charset }),
    };
    if (IN_PROCESS_FORMATS.has(format) && input.bytes.length <= IN_PROCESS_MAX_BYTES) {
      signal?.throwIfAborted();
      return extractFormat(format, input.bytes, input.filename, this.options.limits, charset);
    }
    return this.queue.add(() => this.run(task, signal), signal ? { signal } : {});
  }

  private run(task: ExtractionTask, signal: AbortSignal | undefined): Promise<ExtractedDocument> {
    const { heapMb, timeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      // Without execArgv the thread inherits the process's, tsx's loader included, so it can
      // load the .ts extractors under `npm run worker` and `npm test` alike.
      const worker = new Worker(THREAD, {
        workerData: task,
        resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.min(64, heapMb / 8) },
      });
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        void worker.terminate();
        outcome();
      };
      const timer = setTimeout(
        () => settle(() => reject(new ExtractionTimeoutError(task.filename, task.format, timeoutMs))),
        timeoutMs,
      );
      const onAbort = () =>
        settle(() => {
          const reason: unknown = signal?.reason;
          reject(reason instanceof Error ? reason : new Error('The extraction was aborted', { cause: reason }));
        });
      signal?.addEventListener('abort', onAbort, { once: true });

      worker.once('message', (reply: ThreadReply) =>
        settle(() => ('document' in reply ? resolve(reply.document) : reject(revive(task, reply.error)))),
      );
      worker.once('error', (error: Error & { code?: string }) =>
        settle(() => {
          if (error.code !== 'ERR_WORKER_OUT_OF_MEMORY') {
            // Not a verdict on the document (the thread could not start, say): left transient,
            // for the activity's bounded retries.
            reject(new Error(`The extraction thread failed: ${error.message}`, { cause: error }));
            return;
          }
          reject(
            new DocumentTooLargeError(
              task.filename,
              task.format,
              'heapMb',
              `extracting it needs more than ${heapMb} MiB of memory`,
            ),
          );
        }),
      );
      worker.once('exit', (code) =>
        settle(() => reject(new Error(`The extraction thread exited with code ${code} before it answered`))),
      );
    });
  }
}
