// A sample mailbox for the Google stand-in: as many mails as asked for, each fully determined by
// a seed and its place in the mailbox, so the same call gives the same mailbox. Mails look like a
// working inbox's: a few dozen correspondents, a dozen subjects, threads of replies, bodies from
// a line to a long newsletter, labels, and about one mail in five with attachments, some in
// formats Quarry reads (txt, pdf, docx, html) and some it records and skips (png, zip). Messages
// are written when read (GmailMailbox's lazy raw), so 10,000 of them cost a few megabytes.
import { docx, pdf, zip } from '../document-writers.ts';
import { composeMessage, type Part } from './compose.ts';
import type { GmailMailbox, MailboxMessage } from './gmail-mailbox.ts';

export type AttachmentKind = 'txt' | 'pdf' | 'docx' | 'html' | 'png' | 'zip';

/** The kinds Quarry reads into the mail's document; the others are recorded and skipped. */
export const INDEXED_KINDS: ReadonlySet<AttachmentKind> = new Set(['txt', 'pdf', 'docx', 'html']);

/** What a sample mail is, without its bytes: cheap to make, and what its bytes are written from. */
export interface SamplePlan {
  readonly seed: number;
  readonly index: number;
  readonly subject: string;
  readonly from: string;
  readonly labelIds: readonly string[];
  readonly date: Date;
  /** Whether it replies to the mail before it (and so shares its thread). */
  readonly reply: boolean;
  readonly paragraphs: number;
  readonly attachments: readonly { readonly filename: string; readonly kind: AttachmentKind }[];
}

/** mulberry32, seeded by the mail's seed, place and purpose. */
function randomOf(seed: number, index: number, salt: number): () => number {
  let state = (Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b) ^ salt) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const PEOPLE = [
  'Ada Lovelace',
  'Grace Hopper',
  'Alan Turing',
  'Katherine Johnson',
  'Edsger Dijkstra',
  'Barbara Liskov',
  'Donald Knuth',
  'Margaret Hamilton',
  'Ken Thompson',
  'Frances Allen',
  'John McCarthy',
  'Radia Perlman',
  'Leslie Lamport',
  'Hedy Lamarr',
  'Dennis Ritchie',
  'Shafi Goldwasser',
  'Tim Berners-Lee',
  'Mary Keller',
  'Niklaus Wirth',
  'Sophie Wilson',
];
const DOMAINS = ['example.test', 'orchard.example', 'glacier-survey.example', 'bistro.example', 'cooperative.example'];

interface Topic {
  readonly subject: string;
  readonly lines: readonly string[];
}

const TOPICS: readonly Topic[] = [
  {
    subject: 'Invoice {n} for the orchard delivery',
    lines: [
      'Please find the invoice for last week’s delivery of apples and pears attached.',
      'Payment is due within thirty days of the invoice date.',
      'The delivery included twelve crates of Cox apples and eight of Conference pears.',
      'Let me know if the quantities do not match what you received.',
    ],
  },
  {
    subject: 'Glacier survey: field report {n}',
    lines: [
      'The survey team measured the glacier’s retreat along the eastern transect again.',
      'Meltwater discharge was higher than in any spring we have recorded.',
      'We lost a day to fog on the plateau, but the stakes were all read.',
      'The full tables are in the report; the summary is below.',
    ],
  },
  {
    subject: 'Meeting notes: quarterly planning {n}',
    lines: [
      'Thanks everyone for joining the quarterly planning meeting.',
      'We agreed to move the release to the second week of the month.',
      'Action items: Grace drafts the budget, Alan reviews the hiring plan.',
      'The next meeting is on Thursday at ten in the large room.',
    ],
  },
  {
    subject: 'Travel booking confirmation {n}',
    lines: [
      'Your train to Zurich departs at 08:12 from platform 4.',
      'The hotel booking includes breakfast and a late checkout.',
      'Keep this confirmation for your expense claim.',
      'Seat reservations are in coach 7, seats 41 and 42.',
    ],
  },
  {
    subject: 'Parental leave policy update {n}',
    lines: [
      'The cooperative extends parental leave to twenty weeks from January.',
      'Leave can be taken in up to three blocks within the child’s first two years.',
      'Please talk to the people team before you plan your leave.',
      'The updated handbook chapter is attached for reference.',
    ],
  },
  {
    subject: 'Bistro menu for the team dinner {n}',
    lines: [
      'The bistro offers a set menu of three courses for the team dinner.',
      'The crème brûlée is the chef’s recommendation for dessert.',
      'Please tell me about dietary requirements by Friday.',
      'The table is booked for eight people at seven o’clock.',
    ],
  },
  {
    subject: 'Code review: retry backoff in the sync worker {n}',
    lines: [
      'I left a few comments on the retry backoff change.',
      'The exponential backoff should honour the Retry-After header when there is one.',
      'Could you add a test for the rate limit that answers 429?',
      'Otherwise this looks good to merge after the build passes.',
    ],
  },
  {
    subject: 'Weekly newsletter: cooperative news {n}',
    lines: [
      'This week the cooperative welcomed four new members to the orchard team.',
      'The solar panels on the barn roof produced more power than we used in October.',
      'Volunteers are needed for the apple pressing day on Saturday.',
      'The library now lends tools as well as books; ask at the front desk.',
      'Our recipe of the week is a pear and walnut tart.',
    ],
  },
  {
    subject: 'Server maintenance window {n}',
    lines: [
      'The database servers will be patched on Sunday between two and four in the morning.',
      'Search may answer slowly while the replicas catch up.',
      'No action is needed on your side; we will post an update when it is done.',
    ],
  },
  {
    subject: 'Expense report {n} approved',
    lines: [
      'Your expense report has been approved and will be paid with the next salary.',
      'Two receipts were missing; please upload them within a week.',
      'Mileage is reimbursed at the standard rate per kilometre.',
    ],
  },
];

const SIGN_OFFS = ['Best regards', 'Thanks', 'Cheers', 'Kind regards', 'All the best'];
const ATTACHMENT_KINDS: readonly AttachmentKind[] = ['txt', 'pdf', 'pdf', 'docx', 'docx', 'html', 'png', 'zip'];
const ATTACHMENT_NAMES = ['notes', 'report', 'summary', 'scan', 'minutes', 'figures'];

/** Whether the `index`-th mail replies to the one before it (and so shares its subject and thread). */
function isReply(seed: number, index: number): boolean {
  return index > 0 && randomOf(seed, index, 0x7e)() < 0.25;
}

/** The mail the `index`-th one's reply chain began with (itself, when it is no reply). */
function chainStart(seed: number, index: number): number {
  let first = index;
  while (isReply(seed, first)) first -= 1;
  return first;
}

/** The topic of the `index`-th mail: that of the mail its reply chain began with. */
function topicOf(seed: number, index: number): Topic {
  return TOPICS[Math.floor(randomOf(seed, chainStart(seed, index), 0x70)() * TOPICS.length)]!;
}

/** What the `index`-th mail of the sample mailbox of `seed` is (its bytes are written by `renderSample`). */
export function samplePlan(seed: number, index: number): SamplePlan {
  const random = randomOf(seed, index, 0x51);
  const reply = isReply(seed, index);
  const name = pick(random, PEOPLE);
  const labelIds = ['INBOX'];
  if (random() < 0.3) labelIds.push('UNREAD');
  if (random() < 0.1) labelIds.push('IMPORTANT');
  if (random() < 0.05) labelIds.push('STARRED');
  if (random() < 0.2) labelIds.push('CATEGORY_UPDATES');
  // Most mails are short; one in ten is long (a newsletter, a thread quoted in full).
  const paragraphs = random() < 0.1 ? 20 + Math.floor(random() * 60) : 1 + Math.floor(random() * 6);
  const attachments: { filename: string; kind: AttachmentKind }[] = [];
  if (random() < 0.2) {
    const count = random() < 0.8 ? 1 : 2;
    for (let i = 0; i < count; i += 1) {
      const kind = pick(random, ATTACHMENT_KINDS);
      attachments.push({ filename: `${pick(random, ATTACHMENT_NAMES)}-${index}-${i + 1}.${kind}`, kind });
    }
  }
  const subject = topicOf(seed, index).subject.replace('{n}', String(1000 + chainStart(seed, index)));
  return {
    seed,
    index,
    subject: reply ? `Re: ${subject}` : subject,
    from: `${name} <${name.toLowerCase().replace(/[^a-z]+/g, '.')}@${pick(random, DOMAINS)}>`,
    labelIds,
    date: new Date(Date.UTC(2026, 10, 30, 9) - index * 37 * 60_000),
    reply,
    paragraphs,
    attachments,
  };
}

/** `count` paragraphs of the topic's sentences, in an order and number of the random's choosing. */
function paragraphsOf(random: () => number, topic: Topic, count: number): string[] {
  return Array.from({ length: count }, () =>
    Array.from({ length: 2 + Math.floor(random() * 4) }, () => pick(random, topic.lines)).join(' '),
  );
}

/** 1×1 PNG, the picture a phone attaches (Quarry reads no images: recorded and skipped). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

function attachmentPart(
  random: () => number,
  topic: Topic,
  plan: SamplePlan,
  filename: string,
  kind: AttachmentKind,
): Part {
  const title = plan.subject.replace(/^Re: /, '');
  const text = () => paragraphsOf(random, topic, 2 + Math.floor(random() * 8));
  switch (kind) {
    case 'txt':
      return { filename, contentType: 'text/plain', content: `${title}\n\n${text().join('\n\n')}\n` };
    case 'html':
      return {
        filename,
        contentType: 'text/html',
        content: `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1>${text()
          .map((paragraph) => `<p>${paragraph}</p>`)
          .join('')}</body></html>`,
      };
    case 'pdf':
      return {
        filename,
        contentType: 'application/pdf',
        content: pdf(
          title,
          Array.from({ length: 1 + Math.floor(random() * 3) }, (_, page) => [`${title}, page ${page + 1}`, ...text()]),
        ),
      };
    case 'docx':
      return {
        filename,
        contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        content: docx([
          { style: 'Heading1', text: title },
          ...text().flatMap((paragraph, i) => [
            ...(i % 3 === 2 ? [{ style: 'Heading2' as const, text: `Part ${i + 1}` }] : []),
            { text: paragraph },
          ]),
        ]),
      };
    case 'png':
      return { filename, contentType: 'image/png', content: PNG };
    case 'zip':
      return {
        filename,
        contentType: 'application/zip',
        content: zip({ 'readme.txt': text().join('\n\n'), 'data.csv': 'item,count\napples,12\npears,8\n' }),
      };
  }
}

/** The RFC 822 bytes of a sample mail: the same bytes for the same plan, every time. */
export function renderSample(plan: SamplePlan): Buffer {
  const random = randomOf(plan.seed, plan.index, 0xb0d7);
  const topic = topicOf(plan.seed, plan.index);
  const [first] = plan.from.split(' ');
  const body = [
    'Hello,',
    ...paragraphsOf(random, topic, plan.paragraphs),
    `${pick(random, SIGN_OFFS)},\n${first}`,
  ].join('\n\n');
  return composeMessage({
    from: plan.from,
    to: 'Demo User <demo@gmail.test>',
    subject: plan.subject,
    text: body,
    date: plan.date,
    messageId: `<sample-${plan.seed}-${plan.index}@quarry.test>`,
    attachments: plan.attachments.map(({ filename, kind }) => attachmentPart(random, topic, plan, filename, kind)),
  });
}

/**
 * Adds `count` sample mails to the mailbox (the oldest last, as an inbox lists them), written
 * lazily; answers the added messages with their plans, in the order added.
 */
export function fillSampleMailbox(
  mailbox: GmailMailbox,
  count: number,
  seed = 1,
): { message: MailboxMessage; plan: SamplePlan }[] {
  const added: { message: MailboxMessage; plan: SamplePlan }[] = [];
  for (let index = 0; index < count; index += 1) {
    const plan = samplePlan(seed, index);
    const previous = added.at(-1)?.message;
    const message = mailbox.add({
      raw: () => renderSample(plan),
      labelIds: [...plan.labelIds],
      internalDate: plan.date.getTime(),
      ...(plan.reply && previous ? { threadId: previous.threadId } : {}),
    });
    added.push({ message, plan });
  }
  return added;
}
