// The error hierarchy of the RAG domain layer. Every error carries a stable `code` and says
// whether retrying can help (`retryable`), so the activity layer can turn permanent ones into
// non-retryable ApplicationFailures and let Temporal retry the transient ones.

/** Thrown when the RAG layer fails; the base of every error below. */
export abstract class RagError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown when a document cannot be turned into text; retrying the same bytes cannot help. */
export abstract class DocumentError extends RagError {
  readonly retryable = false;

  constructor(
    readonly filename: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Thrown when a file's extension, media type and leading bytes name no format we extract, or
 * its leading bytes show a format we do not (`detectedType`, as file-type names it).
 */
export class UnsupportedFormatError extends DocumentError {
  readonly code = 'unsupported_format';

  constructor(
    filename: string,
    readonly mimeType: string | undefined,
    readonly detectedType?: string,
  ) {
    const said = [mimeType, detectedType && `its bytes are ${detectedType}`].filter(Boolean).join('; ');
    super(
      filename,
      `Unsupported document format for "${filename}"${said ? ` (${said})` : ''}: ` +
        'expected txt, md, html, pdf, docx, xlsx, ods, pptx, odt, rtf, csv, json or eml',
    );
  }
}

/** Thrown when a file claims a supported format but its content cannot be parsed as one. */
export class CorruptDocumentError extends DocumentError {
  readonly code = 'corrupt_document';

  constructor(
    filename: string,
    readonly format: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(filename, `Corrupt ${format} document "${filename}": ${reason}`, options);
  }
}

/** Thrown when a document is password-protected, so its text cannot be read. */
export class EncryptedDocumentError extends DocumentError {
  readonly code = 'encrypted_document';

  constructor(
    filename: string,
    readonly format: string,
  ) {
    super(filename, `The ${format} document "${filename}" is password-protected`);
  }
}

/** Thrown when a document parses but holds no text to index (for example a scanned PDF). */
export class EmptyDocumentError extends DocumentError {
  readonly code = 'empty_document';

  constructor(
    filename: string,
    readonly format: string,
  ) {
    super(filename, `The ${format} document "${filename}" contains no extractable text`);
  }
}

/**
 * Thrown when a document goes past one of the extraction limits (rag/extract/limits.ts): it
 * expands, nests, splits or yields more than one document may, or its parser needs more memory
 * than an extraction is given. `limit` names the bound that was hit.
 */
export class DocumentTooLargeError extends DocumentError {
  readonly code = 'document_too_large';

  constructor(
    filename: string,
    readonly format: string,
    readonly limit: string,
    readonly reason: string,
  ) {
    super(filename, `The ${format} document "${filename}" is too large to process: ${reason}`);
  }
}

/** Thrown when extracting a document's text takes longer than an extraction may run. */
export class ExtractionTimeoutError extends DocumentError {
  readonly code = 'extraction_timeout';

  constructor(
    filename: string,
    readonly format: string,
    readonly timeoutMs: number,
  ) {
    super(filename, `Extracting the ${format} document "${filename}" took longer than ${timeoutMs / 1000} s`);
  }
}

/**
 * Thrown when a document splits into more chunks than one document may have; the chunk step
 * knows the sections, not the file, so this is not a DocumentError.
 */
export class TooManyChunksError extends RagError {
  readonly code = 'document_too_large';
  readonly retryable = false;

  constructor(readonly maxChunks: number) {
    super(`The document is too large to process: it splits into more than ${maxChunks} chunks`);
  }
}

/** Thrown when an embedding or chat provider call fails. */
export abstract class ProviderError extends RagError {
  constructor(
    readonly provider: string,
    readonly model: string,
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Thrown when a provider is rate limiting, failing on its side, or unreachable (429, 408, 409,
 * 5xx, network errors). `retryAfterMs` is the provider's `Retry-After`, when it sent one.
 */
export class TransientProviderError extends ProviderError {
  readonly code = 'provider_unavailable';
  readonly retryable = true;

  constructor(
    provider: string,
    model: string,
    status: number | undefined,
    message: string,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(provider, model, status, message, options);
  }
}

/**
 * Thrown when a provider rejects the request itself (400, 401, 403, 404, 422) or answers with
 * something unusable, such as vectors of the wrong dimension; retrying cannot help.
 */
export class PermanentProviderError extends ProviderError {
  readonly code = 'provider_rejected';
  readonly retryable = false;
}

/** Thrown when the provider settings cannot work, for example the OpenAI API without a key. */
export class ProviderConfigurationError extends RagError {
  readonly code = 'provider_misconfigured';
  readonly retryable = false;
}

/**
 * Thrown when a local embedding model cannot be loaded: a file is missing, or its bytes do not
 * match the sha256 they are pinned to. `npm run install:model` (or any `npm run stack`, `dev`
 * or `test`) installs the pinned files.
 */
export class EmbeddingModelError extends RagError {
  readonly code = 'embedding_model_unavailable';
  readonly retryable = false;

  constructor(
    readonly model: string,
    readonly file: string,
    readonly problem: string,
  ) {
    super(`The embedding model ${model} cannot be loaded: ${file} ${problem}. Run \`npm run install:model\`.`);
  }
}
