// What a search hit from synced mail says of where it came from: the email's subject, sender and
// date, a link that opens the message in Gmail, and, for a chunk of one of its attachments, the
// attachment's name. The mail's document locates an attachment's sections as
// `attachment NAME of mail "SUBJECT"` (rag/extract/eml.ts), which is where the name is read.
import type { ChunkHit, MailSource } from '../db/queries/search/hits.ts';

export type { MailSource };

/** Gmail's web link to a message: `#all/<id>` finds it whatever its labels. */
export function gmailLink(address: string | null, gmailMessageId: string): string {
  return `https://mail.google.com/mail/u/${encodeURIComponent(address ?? '0')}/#all/${encodeURIComponent(gmailMessageId)}`;
}

/** The attachment a chunk of the mail was read from, by its heading; null for the mail's own text. */
export function attachmentOf(heading: string | null, subject: string, gmailMessageId: string): string | null {
  const prefix = 'attachment ';
  if (!heading?.startsWith(prefix)) return null;
  // The extractor names the mail by its subject, or by its file name when it has none.
  const mail = subject ? ` of mail "${subject}"` : ` of mail ${gmailMessageId}.eml`;
  const end = heading.indexOf(mail, prefix.length);
  return end > prefix.length ? heading.slice(prefix.length, end) : null;
}

export function mailSourceOf(hit: Pick<ChunkHit, 'mail' | 'heading'>): MailSource | null {
  const { mail } = hit;
  if (!mail) return null;
  const attachment = attachmentOf(hit.heading, mail.subject, mail.gmailMessageId);
  const subject = `mail "${mail.subject || '(no subject)'}"`;
  const label = attachment
    ? `attachment ${attachment} of ${subject}`
    : [`${subject}${mail.sender ? ` from ${mail.sender}` : ''}`, mail.sentAt?.slice(0, 10)].filter(Boolean).join(', ');
  return { ...mail, link: gmailLink(mail.address, mail.gmailMessageId), attachment, label };
}
