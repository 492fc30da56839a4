// A mail file through mailparser: Subject, From, To, Cc and Date lines, then the text body,
// or the HTML body through html-to-text when there is no text part. The subject is the heading.
import { simpleParser, type AddressObject } from 'mailparser';
import { CorruptDocumentError } from '../errors.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';
import { htmlToPlainText } from './html.ts';

function addresses(value: AddressObject | AddressObject[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map((address) => address.text).join(', ');
}

export async function extractEml(bytes: Uint8Array, filename: string): Promise<ExtractedDocument> {
  const mail = await simpleParser(Buffer.from(bytes), {
    skipHtmlToText: true,
    skipImageLinks: true,
    skipTextToHtml: true,
  });
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
  const body = mail.text?.trim() || (mail.html ? htmlToPlainText(mail.html) : '');
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
