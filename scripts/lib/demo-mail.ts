// `npm run dev -- --demo-mail`: the Google stand-in (devtools/google-stand-in/) in the launcher's
// process, holding a sample mailbox, with the settings that point the API's and the worker's
// Google endpoints and Gmail API root at it, so that a mailbox can be connected and synced
// offline. Its consent page approves at once, signed in as the demo mailbox's owner, and sends
// the browser (or `curl -L`) on to the API's OAuth callback. It keeps everything in memory: after
// a restart of `npm run dev` an account connected before shows needs_reauth until connected again.
import { GoogleStandIn } from '../../devtools/google-stand-in/google-server.ts';
import { fillSampleMailbox } from '../../devtools/google-stand-in/sample-mail.ts';
import type { Demo } from './seed.ts';

export const DEMO_MAILBOX = 'demo@gmail.test';
/** Mails in the demo mailbox: enough to search, few enough to sync in a minute with the neural embedder. */
export const DEMO_MAILS = 50;

export interface DemoMail {
  /** GOOGLE_* and GMAIL_API_ROOT for the API and the worker. */
  readonly settings: Record<string, string>;
  readonly baseUrl: string;
  stop(): Promise<void>;
}

export async function startDemoMail(apiUrl: string): Promise<DemoMail> {
  const google = new GoogleStandIn({ clientId: 'quarry-demo.apps.googleusercontent.test', defaultEmail: DEMO_MAILBOX });
  const baseUrl = await google.start();
  fillSampleMailbox(google.mailbox(DEMO_MAILBOX), DEMO_MAILS);
  return {
    settings: google.settings(`${apiUrl}/v1/mail/oauth/callback`),
    baseUrl,
    stop: () => google.stop(),
  };
}

/** What the launcher prints: how to connect the demo mailbox and search its mail, step by step. */
export function demoMailInstructions(demoMail: DemoMail, demo: Demo, apiUrl: string): string {
  const login = JSON.stringify({ email: demo.email, password: demo.password });
  const search = JSON.stringify({ query: 'parental leave', k: 5, filters: { sources: ['gmail'] } });
  const auth = `-H "authorization: Bearer $TOKEN" -H 'x-tenant-id: ${demo.tenantId}'`;
  return `
  Demo mailbox      ${DEMO_MAILBOX}, ${DEMO_MAILS} sample mails, at the Google stand-in ${demoMail.baseUrl}

Connect it (a mailbox belongs to a signed-in user, so this uses the demo login, not the API key):
  TOKEN=$(curl -s -XPOST ${apiUrl}/v1/auth/login -H 'content-type: application/json' -d '${login}' | jq -r .token)
  URL=$(curl -s -XPOST ${apiUrl}/v1/mail/accounts ${auth} -H 'content-type: application/json' -d '{}' | jq -r .authorizationUrl)
  curl -sL "$URL"   # the stand-in consents at once and redirects to the API's callback (or open $URL in a browser)
  curl -s ${apiUrl}/v1/mail/accounts ${auth}   # status syncing, then idle with messageCount ${DEMO_MAILS}
  curl -s -XPOST ${apiUrl}/v1/search ${auth} -H 'content-type: application/json' -d '${search}'
`;
}
