// One batch of messages: fetched from Gmail as RFC 822 bytes (format=raw), parsed with mailparser,
// stored as emails keyed on the account and Gmail id, and made searchable in the same activity:
// each new email becomes its user's private document of source 'gmail' (the raw message is its
// original), read by the mail extractor (rag/extract/eml.ts: headers, body, forwarded mails, and
// each attachment in a supported format, located as `attachment NAME of mail "SUBJECT"`),
// chunked, embedded and activated, with no workflow of its own. Only ids pass through workflow
// history; bodies never do.
//
// Idempotent: an email already stored (a retried batch, a full sync again after Gmail's history
// expired) is not fetched again; only its labels are read (format=minimal) and updated. A message
// gone meanwhile (404) is left out; one Gmail refuses (400) or that cannot be read is recorded as
// an event of the job and skipped, without stopping the mailbox.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { simpleParser, type AddressObject, type Attachment, type ParsedMail } from 'mailparser';
import pLimit from 'p-limit';
import { insertChunks, recordEmbeddingModels } from '../../db/queries/chunks.ts';
import { activateVersion, insertDocument, recordExtraction, type NewDocument } from '../../db/queries/documents.ts';
import {
  setEmailLabels,
  storedGmailIds,
  upsertEmail,
  type NewEmail,
  type NewEmailAttachment,
} from '../../db/queries/emails.ts';
import { insertJobEvent } from '../../db/queries/job-records.ts';
import { withTenant } from '../../db/with-tenant.ts';
import { GmailRequestError, type RawMessage } from '../../mail/gmail.ts';
import { chunkDocument, indexedText, type Chunk } from '../../rag/chunk.ts';
import type { Embedder } from '../../rag/embed/embedder.ts';
import { DocumentError, RagError } from '../../rag/errors.ts';
import { detectFormat, extractFormat, type ExtractedDocument } from '../../rag/extract/index.ts';
import {
  ExtractionSandbox,
  IN_PROCESS_MAX_BYTES,
  sandboxOptions,
  type SandboxConfig,
} from '../../rag/extract/sandbox.ts';
import { textSearchConfigOf } from '../../rag/text/language.ts';
import type { TextSearchConfig } from '../../contract/search.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { originalKey } from '../../storage/document-keys.ts';
import type { MailboxRef } from '../../workflows/shared.ts';
import type { DatabasePool } from 'slonik';
import type { Config } from '../../config.ts';
import { fromGmail, mailScope, type MailStep } from './scope.ts';
import type { GmailMailboxClient } from '../../mail/gmail.ts';

/** Messages of a batch written at once, each in its own transaction (a pooled connection each). */
const WRITE_CONCURRENCY = 4;

export interface MessageBatch extends MailStep {
  readonly ids: readonly string[];
}

export interface BatchOutcome {
  /** New emails stored. */
  readonly stored: number;
  /** Emails already stored whose labels were refreshed. */
  readonly refreshed: number;
  /** Messages gone from Gmail before they could be read. */
  readonly gone: number;
  /** Messages recorded and skipped: Gmail refused them, or they could not be read. */
  readonly skipped: number;
}

export interface StoreDeps {
  readonly pool: DatabasePool;
  readonly blobs: BlobStore;
  readonly embedder: Embedder;
  readonly config: SandboxConfig &
    Pick<
      Config,
      'CHUNK_SIZE' | 'CHUNK_OVERLAP' | 'EMBED_BATCH_SIZE' | 'MAX_CHUNKS_PER_DOCUMENT' | 'MAIL_FETCH_CONCURRENCY'
    >;
  readonly clientFor: (mailbox: MailboxRef) => Promise<GmailMailboxClient>;
}

/** A uuid made from a name (the layout of a version-5 uuid, from SHA-256): the same name, the same id. */
export function nameUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function addressList(value: AddressObject | AddressObject[] | undefined): string[] {
  if (!value) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((group) =>
    group.value.map((address) =>
      address.name ? `${address.name} <${address.address ?? ''}>` : (address.address ?? ''),
    ),
  );
}

/** Why each attachment was or was not read into the email's document. */
function attachmentRows(emailId: string, mail: ParsedMail, extracted: ExtractedDocument | null): NewEmailAttachment[] {
  const headings = extracted?.sections.map((section) => section.location.heading ?? '') ?? [];
  return mail.attachments.map((attachment: Attachment, ordinal) => {
    const name = attachment.filename ?? `attachment-${ordinal + 1}`;
    const base = {
      id: nameUuid(`${emailId}:attachment:${ordinal}`),
      ordinal,
      filename: attachment.filename ?? null,
      mimeType: attachment.contentType ?? null,
      byteSize: attachment.size ?? attachment.content.length,
    };
    let format: string;
    try {
      format = detectFormat(attachment.content, name, attachment.contentType);
    } catch (error) {
      if (!(error instanceof DocumentError)) throw error;
      return { ...base, format: null, skipReason: `${error.code}: ${error.message}` };
    }
    const where = `attachment ${attachment.filename ?? ordinal + 1} of mail `;
    if (headings.some((heading) => heading.startsWith(where))) return { ...base, format, skipReason: null };
    return { ...base, format: null, skipReason: `unreadable: nothing could be read from this ${format} file` };
  });
}

/**
 * A message read and ready to be written: only what its rows hold (its RFC 822 bytes are in the
 * blob store by then, and its parsed MIME parts are let go, so a batch of large mails does not
 * stay in memory while it is embedded).
 */
interface Prepared {
  readonly gmailId: string;
  readonly email: NewEmail;
  readonly attachments: readonly NewEmailAttachment[];
  /** The email's document, or null when its text could not be read (`extractionError`). */
  readonly document: NewDocument | null;
  readonly metadata: Record<string, string | number>;
  readonly tsConfig: TextSearchConfig;
  readonly chunks: readonly Chunk[];
  readonly extractionError: string | null;
}

export function createStoreActivities(deps: StoreDeps) {
  const { pool, blobs, embedder, config, clientFor } = deps;
  const sandbox = new ExtractionSandbox(sandboxOptions(config));
  const { limits } = sandboxOptions(config);
  const model = { model: embedder.model, dimensions: embedder.dimensions };

  /** The mail's text and sections; small mails without attachments are read in this thread. */
  async function extract(message: RawMessage, mail: ParsedMail, signal: AbortSignal): Promise<ExtractedDocument> {
    const filename = `${message.id}.eml`;
    if (mail.attachments.length === 0 && message.raw.length <= IN_PROCESS_MAX_BYTES) {
      return extractFormat('eml', message.raw, filename, limits);
    }
    return sandbox.extract({ bytes: message.raw, filename, mimeType: 'message/rfc822' }, signal);
  }

  async function read(message: RawMessage, mail: ParsedMail, signal: AbortSignal) {
    try {
      const extracted = await extract(message, mail, signal);
      const chunks = await chunkDocument(
        { ...extracted, title: mail.subject ?? '(no subject)' },
        { chunkSize: config.CHUNK_SIZE, chunkOverlap: config.CHUNK_OVERLAP, maxChunks: config.MAX_CHUNKS_PER_DOCUMENT },
      );
      return { extracted, chunks, extractionError: null };
    } catch (error) {
      // A mail that cannot be read (corrupt, too large…) is stored, but not searchable.
      if (!(error instanceof RagError) || error.retryable) throw error;
      return { extracted: null, chunks: [], extractionError: `${error.code}: ${error.message}` };
    }
  }

  async function prepare(mailbox: MailboxRef, message: RawMessage, signal: AbortSignal): Promise<Prepared> {
    const mail = await simpleParser(message.raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
    const { extracted, chunks, extractionError } = await read(message, mail, signal);
    const emailId = nameUuid(`email:${mailbox.accountId}:${message.id}`);
    const subject = mail.subject ?? '';
    let document: NewDocument | null = null;
    if (extracted) {
      const documentId = nameUuid(`document:${mailbox.accountId}:${message.id}`);
      const sha256 = createHash('sha256').update(message.raw).digest('hex');
      const blobKey = originalKey(mailbox.tenantId, documentId, sha256);
      await blobs.put(blobKey, message.raw);
      document = {
        id: documentId,
        tenantId: mailbox.tenantId,
        ownerUserId: mailbox.userId,
        visibility: 'private',
        title: (subject || '(no subject)').slice(0, 500),
        description: '',
        tags: [],
        source: 'gmail',
        filename: `${message.id}.eml`,
        mimeType: 'message/rfc822',
        byteSize: message.raw.length,
        contentSha256: sha256,
        blobKey,
      };
    }
    return {
      gmailId: message.id,
      email: {
        id: emailId,
        accountId: mailbox.accountId,
        gmailMessageId: message.id,
        gmailThreadId: message.threadId,
        messageIdHeader: mail.messageId?.slice(0, 2000) ?? null,
        subject: subject.slice(0, 10_000),
        sender: mail.from?.text.slice(0, 10_000) ?? null,
        to: addressList(mail.to),
        cc: addressList(mail.cc),
        bcc: addressList(mail.bcc),
        textBody: mail.text ? mail.text.replaceAll('\u0000', '') : null,
        htmlBody: typeof mail.html === 'string' ? mail.html.replaceAll('\u0000', '') : null,
        labels: message.labelIds,
        hasAttachments: mail.attachments.length > 0,
        sentAt: mail.date ?? null,
        receivedAt: message.internalDate,
        byteSize: message.raw.length,
        documentId: null,
      },
      attachments: attachmentRows(emailId, mail, extracted),
      document,
      metadata: {
        ...(extracted?.metadata ?? {}),
        format: 'eml',
        gmailMessageId: message.id,
        gmailThreadId: message.threadId,
        mailAccountId: mailbox.accountId,
      },
      tsConfig: textSearchConfigOf(extracted?.text ?? ''),
      chunks,
      extractionError,
    };
  }

  async function embedAll(chunks: readonly Chunk[], signal: AbortSignal): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < chunks.length; start += config.EMBED_BATCH_SIZE) {
      const texts = chunks.slice(start, start + config.EMBED_BATCH_SIZE).map((chunk) => indexedText(chunk));
      vectors.push(...(await embedder.embed(texts, { signal })).map((vector) => [...vector]));
      Context.current().heartbeat({ embedded: vectors.length, of: chunks.length });
    }
    return vectors;
  }

  /** Writes one email, its document with chunks and vectors, and its attachments, in one transaction. */
  async function write(
    input: MessageBatch,
    prepared: Prepared,
    vectors: readonly (readonly number[])[],
  ): Promise<void> {
    const { mailbox } = input;
    const { document, chunks } = prepared;
    await withTenant(pool, mailScope(mailbox), async (tx) => {
      let linked: string | null = null;
      if (document && (await insertDocument(tx, document))) {
        const documentId = document.id;
        await insertChunks(
          tx,
          chunks.map((chunk, index) => ({
            documentId,
            version: 1,
            ordinal: chunk.index,
            content: chunk.text,
            startOffset: chunk.start,
            endOffset: chunk.end,
            page: chunk.location.page ?? null,
            heading: chunk.location.heading ?? null,
            header: chunk.header,
            tsConfig: prepared.tsConfig,
            embeddingModel: model.model,
            embedding: vectors[index] ?? null,
          })),
        );
        await recordEmbeddingModels(tx, { documentId, version: 1 });
        await recordExtraction(tx, documentId, prepared.metadata);
        await activateVersion(tx, documentId, 1);
        linked = documentId;
      }
      await upsertEmail(tx, mailbox, { ...prepared.email, documentId: linked }, prepared.attachments);
      if (prepared.extractionError) {
        await insertJobEvent(tx, input.job, {
          step: 'syncMessages',
          status: 'info',
          message: `Message ${prepared.gmailId} is stored but not searchable: ${prepared.extractionError}`,
          details: { gmailMessageId: prepared.gmailId },
        });
      }
    });
  }

  return {
    /** Fetches, stores and indexes a batch of messages by Gmail id (see the file comment). */
    async syncMessages(input: MessageBatch): Promise<BatchOutcome> {
      const { mailbox } = input;
      const { cancellationSignal: signal } = Context.current();
      const client = await clientFor(mailbox);
      const known = await withTenant(pool, mailScope(mailbox), (tx) =>
        storedGmailIds(tx, mailbox.accountId, input.ids),
      );
      const limit = pLimit(config.MAIL_FETCH_CONCURRENCY);
      const writing = pLimit(WRITE_CONCURRENCY);
      const refused: { id: string; reason: string }[] = [];
      let gone = 0;
      let refreshed = 0;

      const fetched = await Promise.all(
        input.ids.map((id) =>
          limit(async (): Promise<Prepared | null> => {
            try {
              if (known.has(id)) {
                const labels = await fromGmail(pool, mailbox, () => client.labels(id));
                if (labels === null) gone++;
                else if (
                  await withTenant(pool, mailScope(mailbox), (tx) => setEmailLabels(tx, mailbox.accountId, id, labels))
                )
                  refreshed++;
                return null;
              }
              const message = await fromGmail(pool, mailbox, () => client.rawMessage(id));
              if (!message) {
                gone++;
                return null;
              }
              return await prepare(mailbox, message, signal);
            } catch (error) {
              if (!(error instanceof GmailRequestError) || error.status === 401 || error.status === 403) throw error;
              refused.push({ id, reason: error.message });
              return null;
            }
          }),
        ),
      );
      const ready = fetched.filter((prepared): prepared is Prepared => prepared !== null);
      const vectors = await embedAll(
        ready.flatMap((prepared) => prepared.chunks),
        signal,
      );
      let offset = 0;
      const writes = ready.map((prepared) => {
        const own = vectors.slice(offset, offset + prepared.chunks.length);
        offset += prepared.chunks.length;
        return writing(() => write(input, prepared, own));
      });
      await Promise.all(writes);
      if (refused.length > 0) {
        await withTenant(pool, mailScope(mailbox), async (tx) => {
          for (const { id, reason } of refused) {
            await insertJobEvent(tx, input.job, {
              step: 'syncMessages',
              status: 'info',
              message: `Message ${id} skipped: ${reason}`,
              details: { gmailMessageId: id },
            });
          }
        });
      }
      return { stored: ready.length, refreshed, gone, skipped: refused.length };
    },
  };
}
