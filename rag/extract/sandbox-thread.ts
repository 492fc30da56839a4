// The body of one extraction thread (see sandbox.ts): it extracts the bytes it was started with
// and posts back the document, or the DocumentError that ended the extraction.
import { parentPort, workerData } from 'node:worker_threads';
import { DocumentError } from '../errors.ts';
import type { DocumentFormat, ExtractedDocument } from './document.ts';
import { extractFormat } from './index.ts';
import type { ExtractionLimits } from './limits.ts';

/** What a thread is started with (its workerData). */
export interface ExtractionTask {
  readonly format: DocumentFormat;
  readonly bytes: Uint8Array;
  readonly filename: string;
  readonly limits: ExtractionLimits;
  /** The charset parameter of the file's media type, if it had one. */
  readonly charset?: string;
}

/** A DocumentError as it crosses the thread boundary: a structured clone keeps no class. */
export interface SerializedDocumentError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly fields: Record<string, unknown>;
}

export type ThreadReply = { readonly document: ExtractedDocument } | { readonly error: SerializedDocumentError };

const task = workerData as ExtractionTask;
let reply: ThreadReply;
try {
  reply = { document: await extractFormat(task.format, task.bytes, task.filename, task.limits, task.charset) };
} catch (error) {
  // extractFormat turns every parser failure into a DocumentError; anything else ends the
  // thread with an 'error' event.
  if (!(error instanceof DocumentError)) throw error;
  reply = { error: { name: error.name, message: error.message, stack: error.stack, fields: { ...error } } };
}
parentPort?.postMessage(reply);
