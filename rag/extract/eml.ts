// A mail file through mailparser: Subject, From, To, Cc and Date lines, then the body, then each
// attachment in a supported format, read by that format's extractor. The subject is the heading.
//
// The body is every part that carries text. mailparser joins a mail's text parts (a forwarded
// message/rfc822 inlined among them) into one text body and its HTML parts into one HTML body.
// When the HTML says something the text does not (a sentence only in the HTML alternative), the
// HTML is the body, and the text body's paragraphs that the HTML lacks (a forwarded plain-text
// message, which mailparser renders in the HTML as its headers only) follow it; otherwise the
// text body alone. An attachment's sections are located as "attachment <name> of mail
// "<subject>"", beside their own page or heading; an attachment nothing can read (an image,
// a corrupt or empty file) is skipped and counted. Limits hold across the whole mail: its
// yield is the document's, MIME parts count over nested mails, and mails nest no deeper than
// `maxNestingDepth`.
import { simpleParser, type AddressObject, type Attachment, type ParsedMail } from 'mailparser';
import { CorruptDocumentError, DocumentError, DocumentTooLargeError, ExtractionTimeoutError } from '../errors.ts';
import { detectFormat } from './detect.ts';
import { assembleDocument, type DocumentFormat, type ExtractedDocument, type SectionDraft } from './document.ts';
import { htmlToPlainText } from './html.ts';
import { tooDeep, type ExtractionLimits } from './limits.ts';

/** Reads an attachment known to be `format` (index.ts's extractFormat: the same extractors and limits). */
export type AttachmentReader = (
  format: DocumentFormat,
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
) => Promise<ExtractedDocument>;

function addresses(value: AddressObject | AddressObject[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map((address) => address.text).join(', ');
}

/**
 * mailparser stops at `maxChildNodes` MIME parts (attachments and nested multiparts alike) and
 * at 1 MiB of headers per part, failing with code EMAXLEN: that mail is too large, for good.
 */
async function parseMail(
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
  maxParts: number,
): Promise<ParsedMail> {
  try {
    return await simpleParser(Buffer.from(bytes), {
      skipHtmlToText: true,
      skipImageLinks: true,
      skipTextToHtml: true,
      maxChildNodes: maxParts,
    });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EMAXLEN') throw error;
    const refusal = (error as Error).message.toLowerCase();
    throw new DocumentTooLargeError(
      filename,
      'eml',
      'maxMailParts',
      `${refusal} (a mail may have ${limits.maxMailParts} MIME parts, 1 MiB of headers each)`,
    );
  }
}

/** The words of a text, lower-cased, for telling whether one rendering says more than another. */
function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

function saysMore(text: string, than: ReadonlySet<string>): boolean {
  for (const word of words(text)) if (!than.has(word)) return true;
  return false;
}

/**
 * mailparser (3.14) heads each inlined message/rfc822 in the HTML body with a table of its
 * From, Subject, Date and To that it closes with `<table>` instead of `</table>`, so that the
 * forwarded message's own HTML lands inside an unclosed table, where html-to-text drops it.
 * The table holds nothing but mailparser's own cells, so its first `<table>` is that closer.
 */
function closeHeaderTables(html: string): string {
  return html.replace(/(<table class="mp_head">[\s\S]*?)<table>/g, '$1</table>');
}

/** The body: every part that carries text, each sentence once (see the file comment). */
function bodyOf(mail: ParsedMail, filename: string, limits: ExtractionLimits): string {
  const text = mail.text?.trim() ?? '';
  const html = mail.html ? htmlToPlainText(closeHeaderTables(mail.html), filename, 'eml', limits).trim() : '';
  if (!html) return text;
  const textWords = words(text);
  if (!saysMore(html, textWords)) return text;
  const htmlWords = words(html);
  const missing = text.split(/\n\s*\n/).filter((paragraph) => saysMore(paragraph, htmlWords));
  return [html, ...missing].join('\n\n');
}

/** Errors that say one attachment cannot be read, not that the mail is too much to read. */
function unreadable(error: unknown): boolean {
  return (
    error instanceof DocumentError &&
    !(error instanceof DocumentTooLargeError || error instanceof ExtractionTimeoutError)
  );
}

interface MailContext {
  readonly limits: ExtractionLimits;
  readonly read: AttachmentReader;
  /** How many mails this one is inside (0 for the uploaded one). */
  readonly depth: number;
  /** MIME parts the mails read so far have used, of `limits.maxMailParts` (shared by nested mails). */
  readonly used: { parts: number };
}

interface ReadMail {
  readonly subject: string | undefined;
  readonly drafts: SectionDraft[];
  readonly metadata: Record<string, string | number | undefined>;
}

async function readMail(bytes: Uint8Array, filename: string, context: MailContext): Promise<ReadMail> {
  const { limits } = context;
  if (context.depth > limits.maxNestingDepth) throw tooDeep(filename, 'eml', limits);
  const mail = await parseMail(bytes, filename, limits, Math.max(1, limits.maxMailParts - context.used.parts));
  context.used.parts += 1 + mail.attachments.length;
  const headers = {
    Subject: mail.subject,
    From: mail.from?.text,
    To: addresses(mail.to),
    Cc: addresses(mail.cc),
    Date: mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : undefined,
  };
  if (headers.Subject === undefined && headers.From === undefined && headers.Date === undefined) {
    throw new CorruptDocumentError(filename, 'eml', 'no Subject, From or Date header was found');
  }
  const headerLines = Object.entries(headers).flatMap(([name, value]) => (value ? [`${name}: ${value}`] : []));
  const drafts: SectionDraft[] = [
    {
      text: `${headerLines.join('\n')}\n\n${bodyOf(mail, filename, limits)}`,
      location: headers.Subject ? { heading: headers.Subject } : {},
    },
  ];
  let indexed = 0;
  for (const [index, attachment] of mail.attachments.entries()) {
    const sections = await readAttachment(attachment, index, context);
    if (sections === null) continue;
    const where = `attachment ${attachment.filename ?? index + 1} of mail ${headers.Subject ? `"${headers.Subject}"` : filename}`;
    drafts.push(
      ...sections.map((section) => ({
        text: section.text,
        location: {
          ...section.location,
          heading: section.location.heading ? `${where} › ${section.location.heading}` : where,
        },
      })),
    );
    indexed++;
  }
  return {
    subject: headers.Subject,
    drafts,
    metadata: {
      title: headers.Subject,
      from: headers.From,
      to: headers.To,
      date: headers.Date,
      messageId: mail.messageId,
      attachments: mail.attachments.length,
      attachmentsIndexed: mail.attachments.length > 0 ? indexed : undefined,
    },
  };
}

/** The sections of an attachment, or null when it is in no format Quarry reads, or unreadable. */
async function readAttachment(
  attachment: Attachment,
  index: number,
  context: MailContext,
): Promise<readonly SectionDraft[] | null> {
  const name = attachment.filename ?? `attachment-${index + 1}`;
  try {
    const format = detectFormat(attachment.content, name, attachment.contentType);
    if (format === 'eml') {
      const nested = await readMail(attachment.content, name, { ...context, depth: context.depth + 1 });
      return nested.drafts;
    }
    return (await context.read(format, attachment.content, name, context.limits)).sections;
  } catch (error) {
    if (unreadable(error)) return null;
    throw error;
  }
}

export async function extractEml(
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
  read: AttachmentReader,
): Promise<ExtractedDocument> {
  const mail = await readMail(bytes, filename, { limits, read, depth: 0, used: { parts: 0 } });
  return assembleDocument(filename, 'eml', mail.drafts, mail.metadata);
}
