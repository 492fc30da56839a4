// The bare client loop of `npm run bench:mail`, as a process of its own (as the worker is, so that
// neither shares an event loop with the Google stand-in): the real @googleapis/gmail client, with
// a grant from google-auth-library, reads a whole mailbox the way a full sync does on the wire,
// and nothing more: users.messages.list page by page, and each page's messages with
// messages.get format=raw, `concurrency` at a time; with `attachments`, also each attachment with
// messages.attachments.get (ids att0, att1… in MIME order, the stand-in's, counted from the raw
// message's parts). Nothing is parsed or stored. Prints one JSON line: what it read and how long
// it took. Usage: tsx bench/lib/gmail-bare-read.ts '<BareReadInput as JSON>'
import { gmail } from '@googleapis/gmail';
import { OAuth2Client } from 'google-auth-library';
import { mapLimit } from './stats.ts';

export interface BareReadInput {
  readonly gmailApiRoot: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  readonly pageSize: number;
  readonly concurrency: number;
  readonly attachments: boolean;
}

export interface BareReadResult {
  readonly messages: number;
  readonly attachments: number;
  readonly bytes: number;
  readonly requests: number;
  readonly ms: number;
}

const ATTACHMENT_PART = /^Content-Disposition:\s*attachment/gim;

async function bareRead(input: BareReadInput): Promise<BareReadResult> {
  const auth = new OAuth2Client({
    clientId: input.clientId,
    clientSecret: input.clientSecret,
    endpoints: { oauth2TokenUrl: input.tokenUrl },
  });
  auth.setCredentials({ refresh_token: input.refreshToken });
  await auth.getAccessToken();
  const { users } = gmail({ version: 'v1', auth, rootUrl: input.gmailApiRoot });
  let messages = 0;
  let attachments = 0;
  let bytes = 0;
  let requests = 0;
  const begun = performance.now();
  let pageToken: string | undefined;
  do {
    const page = await users.messages.list({ userId: 'me', maxResults: input.pageSize, pageToken });
    requests += 1;
    const ids = (page.data.messages ?? []).map((message) => message.id!);
    await mapLimit(ids, input.concurrency, async (id) => {
      const { data } = await users.messages.get({ userId: 'me', id, format: 'raw' });
      requests += 1;
      const raw = Buffer.from(data.raw ?? '', 'base64url');
      messages += 1;
      bytes += raw.length;
      if (!input.attachments) return;
      const parts = raw.toString('latin1').match(ATTACHMENT_PART)?.length ?? 0;
      for (let ordinal = 0; ordinal < parts; ordinal += 1) {
        const part = await users.messages.attachments.get({ userId: 'me', messageId: id, id: `att${ordinal}` });
        requests += 1;
        attachments += 1;
        bytes += Buffer.from(part.data.data ?? '', 'base64url').length;
      }
    });
    pageToken = page.data.nextPageToken ?? undefined;
  } while (pageToken);
  return { messages, attachments, bytes, requests, ms: performance.now() - begun };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await bareRead(JSON.parse(process.argv[2] ?? '{}') as BareReadInput);
  console.log(JSON.stringify(result));
}
