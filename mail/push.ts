// Gmail push notifications, as a Cloud Pub/Sub push subscription delivers them: Google signs
// each request with an OIDC ID token (RS256, `Authorization: Bearer`), issued by
// accounts.google.com for the audience set on the subscription, whose `email` is the
// subscription's service account and `email_verified` true. google-auth-library's
// OAuth2Client.verifyIdToken checks the signature against Google's certificates (fetched from
// MAIL_PUSH_CERTS_URL, kept as long as their Cache-Control says), the issuer, the audience, and
// that the token is within its lifetime; the service account is checked here.
import { GaxiosError } from 'gaxios';
import { OAuth2Client } from 'google-auth-library';
import type { Config } from '../config.ts';

export type PushSettings = Pick<Config, 'MAIL_PUSH_AUDIENCE' | 'MAIL_PUSH_SERVICE_ACCOUNT' | 'MAIL_PUSH_CERTS_URL'>;

/** Thrown when a push request's token is missing, does not verify, or is not the push service account's. */
export class PushTokenRejectedError extends Error {
  constructor(readonly reason: 'missing' | 'invalid' | 'wrong_account') {
    super(`The push token was refused (${reason})`);
    this.name = 'PushTokenRejectedError';
  }
}

/** Thrown when Google's certificates cannot be fetched: the push cannot be judged now, only later. */
export class PushCertificatesUnavailableError extends Error {
  constructor(options?: ErrorOptions) {
    super('Google’s token certificates could not be fetched', options);
    this.name = 'PushCertificatesUnavailableError';
  }
}

export interface PushVerifier {
  /** Resolves when `authorization` bears a valid push token; else throws one of the errors above. */
  verify(authorization: string | undefined): Promise<void>;
}

/** The verifier of push tokens, or null when push is not configured. */
export function pushVerifierOf(config: PushSettings): PushVerifier | null {
  const { MAIL_PUSH_AUDIENCE: audience, MAIL_PUSH_SERVICE_ACCOUNT: serviceAccount } = config;
  if (!audience || !serviceAccount) return null;
  const client = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: config.MAIL_PUSH_CERTS_URL } });
  return {
    async verify(authorization) {
      const idToken = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      if (!idToken) throw new PushTokenRejectedError('missing');
      let ticket;
      try {
        ticket = await client.verifyIdToken({ idToken, audience });
      } catch (error) {
        if (error instanceof GaxiosError) throw new PushCertificatesUnavailableError({ cause: error });
        // Every other failure is the token's (its message quotes the token: it is not passed on).
        throw new PushTokenRejectedError('invalid');
      }
      const payload = ticket.getPayload();
      if (payload?.email !== serviceAccount || payload.email_verified !== true) {
        throw new PushTokenRejectedError('wrong_account');
      }
    },
  };
}
