// A mail file through mailparser: Subject, From, To, Cc and Date lines, then the text body,
// or the HTML body through html-to-text when there is no text part. The subject is the heading.
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { CorruptDocumentError, DocumentTooLargeError } from '../errors.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';
import { htmlToPlainText } from './html.ts';
import type { ExtractionLimits } from './limits.ts';

function addresses(value: AddressObject | AddressObject[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map((address) => address.text).join(', ');
}

/**
 * mailparser stops at `maxChildNodes` MIME parts (attachments and nested multiparts alike) and
 * at 1 MiB of headers per part, failing with code EMAXLEN: that mail is too large, for good.
 */
async function parseMail(bytes: Uint8Array, filename: string, limits: ExtractionLimits): Promise<ParsedMail> {
  try {
    return await simpleParser(Buffer.from(bytes), {
      skipHtmlToText: true,
      skipImageLinks: true,
      skipTextToHtml: true,
      maxChildNodes: limits.maxMailParts,
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

export async function extractEml(
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
): Promise<ExtractedDocument> {
  const mail = await parseMail(bytes, filename, limits);
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
  const body = mail.text?.trim() || (mail.html ? htmlToPlainText(mail.html, filename, 'eml', limits) : '');
  const headerLines = Object.entries(headers).flatMap(([name, value]) => (value ? [`${name}: ${value}`] : []));
  const text = `${headerLines.join('\n')}\n\n${body}`;
  return assembleDocument(filename, 'eml', [{ text, location: headers.Subject ? { heading: headers.Subject } : {} }], {
    title: headers.Subject,
    from: headers.From,
    to: headers.To,
    date: headers.Date,
    messageId: mail.messageId,
    attachments: mail.attachments.length,
  });
}
