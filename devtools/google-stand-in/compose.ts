// RFC 822 messages as a mail client writes them, for the Google stand-in's mailboxes: the mail
// tests' messages and the sample mailbox (sample-mail.ts).
import { createHash, randomUUID } from 'node:crypto';

export interface Part {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer | string;
}

/**
 * An RFC 822 message as a mail client writes one: multipart/mixed with a text body and base64
 * attachments, or a single text/plain part without them.
 */
export function composeMessage(message: {
  from?: string;
  to?: string;
  cc?: string;
  subject: string;
  text: string;
  date?: Date;
  attachments?: readonly Part[];
  /** The Message-ID header (a random one by default); the MIME boundary is made from it. */
  messageId?: string;
}): Buffer {
  const messageId = message.messageId ?? `<${randomUUID()}@example.test>`;
  const headers = [
    `From: ${message.from ?? 'Ada Lovelace <ada@example.test>'}`,
    `To: ${message.to ?? 'Quarry User <user@gmail.test>'}`,
    ...(message.cc ? [`Cc: ${message.cc}`] : []),
    `Subject: ${message.subject}`,
    `Date: ${(message.date ?? new Date('2026-11-30T09:00:00Z')).toUTCString()}`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
  ];
  const attachments = message.attachments ?? [];
  if (attachments.length === 0) {
    return Buffer.from(
      [
        ...headers,
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        message.text,
        '',
      ].join('\r\n'),
    );
  }
  const boundary = `quarry-${createHash('sha256').update(messageId).digest('hex').slice(0, 32)}`;
  const parts = [
    [`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', message.text],
    ...attachments.map((part) => [
      `--${boundary}`,
      `Content-Type: ${part.contentType}; name="${part.filename}"`,
      `Content-Disposition: attachment; filename="${part.filename}"`,
      'Content-Transfer-Encoding: base64',
      '',
      (Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content, 'utf8'))
        .toString('base64')
        .replace(/.{76}/g, '$&\r\n'),
    ]),
  ];
  return Buffer.from(
    [
      ...headers,
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      ...parts.map((lines) => lines.join('\r\n')),
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}
