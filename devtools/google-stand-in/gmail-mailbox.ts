// The mailbox behind the Google stand-in: messages with labels, and Gmail's history id, a counter
// that every change (add, delete, relabel) moves on, with the change recorded in the history, as
// users.history.list reports it. The stand-in serves messages.list/get, attachments.get and
// history.list over this model; `expireHistory` makes a start history id too old (Gmail's 404).
// `watch` is the mailbox's push watch (users.watch), until users.stop ends it.
export interface MailboxMessage {
  readonly id: string;
  readonly threadId: string;
  /** The RFC 822 message, as format=raw returns it base64url-encoded (written anew on each read when generated). */
  readonly raw: Buffer;
  labelIds: string[];
  readonly internalDate: number;
}

export type HistoryChange =
  | { readonly kind: 'messagesAdded'; readonly messageId: string; readonly threadId: string }
  | { readonly kind: 'messagesDeleted'; readonly messageId: string; readonly threadId: string }
  | {
      readonly kind: 'labelsAdded' | 'labelsRemoved';
      readonly messageId: string;
      readonly threadId: string;
      readonly labelIds: readonly string[];
    };

export interface HistoryRecord {
  readonly id: bigint;
  readonly change: HistoryChange;
}

/** A users.watch in force: Gmail would publish the mailbox's changes on `topicName` until `expiration` (ms). */
export interface MailboxWatch {
  readonly topicName: string;
  /** The labels it is limited to; null for every change. */
  readonly labelIds: readonly string[] | null;
  readonly expiration: number;
}

export class GmailMailbox {
  readonly messages = new Map<string, MailboxMessage>();
  /** The watch users.watch set last, until users.stop (null: none). */
  watch: MailboxWatch | null = null;
  readonly history: HistoryRecord[] = [];
  /** Message ids whose messages.get answers this status (400: a message Gmail cannot serve). */
  readonly messageFaults = new Map<string, number>();
  /** History ids before this one are gone: a history.list from them answers 404. */
  oldestHistoryId = 1n;
  private historyId = 1000n;
  private nextId = 1;

  constructor(readonly email: string) {}

  get currentHistoryId(): bigint {
    return this.historyId;
  }

  private record(change: HistoryChange): void {
    this.historyId += 1n;
    this.history.push({ id: this.historyId, change });
  }

  /**
   * Adds a message. Its `raw` may be a function that writes the same bytes each time it is
   * called: the message is then written on each read and never kept, so a mailbox of many large
   * generated mails (sample-mail.ts) holds little more than their ids and labels.
   */
  add(input: {
    raw: Buffer | string | (() => Buffer);
    labelIds?: string[];
    threadId?: string;
    internalDate?: number;
  }): MailboxMessage {
    const id = (0x18c0000000000000n + BigInt(this.nextId++)).toString(16);
    const fields = {
      id,
      threadId: input.threadId ?? id,
      labelIds: input.labelIds ?? ['INBOX', 'UNREAD'],
      internalDate: input.internalDate ?? Date.now(),
    };
    const { raw } = input;
    const message: MailboxMessage =
      typeof raw === 'function'
        ? {
            ...fields,
            get raw() {
              return raw();
            },
          }
        : { ...fields, raw: Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8') };
    this.messages.set(id, message);
    this.record({ kind: 'messagesAdded', messageId: id, threadId: message.threadId });
    return message;
  }

  delete(id: string): void {
    const message = this.messages.get(id);
    if (!message) throw new Error(`no message ${id}`);
    this.messages.delete(id);
    this.record({ kind: 'messagesDeleted', messageId: id, threadId: message.threadId });
  }

  relabel(id: string, change: { add?: readonly string[]; remove?: readonly string[] }): void {
    const message = this.messages.get(id);
    if (!message) throw new Error(`no message ${id}`);
    const added = (change.add ?? []).filter((label) => !message.labelIds.includes(label));
    const removed = (change.remove ?? []).filter((label) => message.labelIds.includes(label));
    message.labelIds = [...message.labelIds.filter((label) => !removed.includes(label)), ...added];
    if (added.length) this.record({ kind: 'labelsAdded', messageId: id, threadId: message.threadId, labelIds: added });
    if (removed.length) {
      this.record({ kind: 'labelsRemoved', messageId: id, threadId: message.threadId, labelIds: removed });
    }
  }

  /** messages.get of this message answers `status` (400 by default) from now on. */
  failMessage(id: string, status = 400): void {
    this.messageFaults.set(id, status);
  }

  /** Forgets the history before the current id, as Gmail does after about a week. */
  expireHistory(): void {
    this.oldestHistoryId = this.historyId;
    this.history.length = 0;
  }

  /** A page of message ids, newest first, as users.messages.list gives them; the token is an offset. */
  listPage(pageToken: string | undefined, maxResults: number): { ids: MailboxMessage[]; next: string | null } {
    const all = [...this.messages.values()].sort((a, b) => b.internalDate - a.internalDate || (a.id < b.id ? 1 : -1));
    const start = pageToken ? Number(pageToken) : 0;
    const ids = all.slice(start, start + maxResults);
    return { ids, next: start + maxResults < all.length ? String(start + maxResults) : null };
  }

  /**
   * The history records after `startHistoryId`, a page at a time (the token is the last id given),
   * or null when that id is older than the history kept.
   */
  historyPage(
    startHistoryId: bigint,
    pageToken: string | undefined,
    maxResults: number,
  ): { records: HistoryRecord[]; next: string | null } | null {
    if (startHistoryId < this.oldestHistoryId) return null;
    const after = pageToken ? BigInt(pageToken) : startHistoryId;
    const newer = this.history.filter((record) => record.id > after);
    const records = newer.slice(0, maxResults);
    return { records, next: newer.length > maxResults ? records.at(-1)!.id.toString() : null };
  }

  /** users.getProfile's answer. */
  profile(): { emailAddress: string; messagesTotal: number; threadsTotal: number; historyId: string } {
    const threads = new Set([...this.messages.values()].map((message) => message.threadId));
    return {
      emailAddress: this.email,
      messagesTotal: this.messages.size,
      threadsTotal: threads.size,
      historyId: this.historyId.toString(),
    };
  }
}
