// Sealing OAuth tokens and PKCE code verifiers at rest: AES-256-GCM (node:crypto) under the
// current key of TOKEN_ENCRYPTION_KEY, with previous keys (TOKEN_ENCRYPTION_PREVIOUS_KEYS) kept
// for opening only. A sealed value is stored as one bytea, `iv (12) || tag (16) || ciphertext`,
// with the id of its key beside it in its own column. The key id is derived from the key (the
// first 8 bytes of a SHA-256 over a label and the key, in hex), so it cannot drift from the key
// it names, and reveals nothing of it. Every value is sealed with associated data naming its
// table, column and row (`mail_grants.refresh_token:<account id>`), so a ciphertext moved to
// another row or column no longer opens.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A value as it is stored: the ciphertext and the id of the key that sealed it. */
export interface Sealed {
  readonly keyId: string;
  readonly ciphertext: Buffer;
}

/** Thrown when a ciphertext names a key this process does not hold. */
export class UnknownTokenKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`No token encryption key with id ${keyId} is configured (TOKEN_ENCRYPTION_PREVIOUS_KEYS?)`);
    this.name = 'UnknownTokenKeyError';
  }
}

/** Thrown when a ciphertext does not open: altered, truncated, or sealed for another row or column. */
export class TokenDecryptionError extends Error {
  constructor(readonly keyId: string) {
    super(`A token sealed under key ${keyId} does not open: it was altered or belongs elsewhere`);
    this.name = 'TokenDecryptionError';
  }
}

/** Thrown when no encryption key is configured where one is needed. */
export class MissingTokenKeyError extends Error {
  constructor() {
    super('TOKEN_ENCRYPTION_KEY is not set');
    this.name = 'MissingTokenKeyError';
  }
}

export interface TokenCipher {
  /** The id of the key new values are sealed under. */
  readonly currentKeyId: string;
  /** Every key id this cipher can open, the current one first. */
  readonly keyIds: readonly string[];
  seal(plaintext: string, context: string): Sealed;
  open(sealed: Sealed, context: string): string;
}

/** The id of a key: 16 hex digits, derived from the key itself. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('quarry-token-key\0').update(key).digest('hex').slice(0, 16);
}

function keyBytes(encoded: string): Buffer {
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== 32) throw new Error('A token encryption key must be 32 bytes');
  return key;
}

/** A cipher over a current key and any previous ones, each given in base64 or base64url. */
export function createTokenCipher(current: string, previous: readonly string[] = []): TokenCipher {
  const currentKey = keyBytes(current);
  const currentKeyId = keyIdOf(currentKey);
  const keys = new Map<string, Buffer>([[currentKeyId, currentKey]]);
  for (const encoded of previous) {
    const key = keyBytes(encoded);
    const id = keyIdOf(key);
    if (!keys.has(id)) keys.set(id, key);
  }
  return {
    currentKeyId,
    keyIds: [...keys.keys()],
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, currentKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { keyId: currentKeyId, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]) };
    },
    open({ keyId, ciphertext }, context) {
      const key = keys.get(keyId);
      if (!key) throw new UnknownTokenKeyError(keyId);
      if (ciphertext.length < IV_BYTES + TAG_BYTES) throw new TokenDecryptionError(keyId);
      const decipher = createDecipheriv(ALGORITHM, key, ciphertext.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(ciphertext.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(ciphertext.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        throw new TokenDecryptionError(keyId);
      }
    },
  };
}

/** The cipher the configuration describes, or null when TOKEN_ENCRYPTION_KEY is not set. */
export function tokenCipherOf(
  config: Pick<Config, 'TOKEN_ENCRYPTION_KEY' | 'TOKEN_ENCRYPTION_PREVIOUS_KEYS'>,
): TokenCipher | null {
  if (!config.TOKEN_ENCRYPTION_KEY) return null;
  return createTokenCipher(config.TOKEN_ENCRYPTION_KEY, config.TOKEN_ENCRYPTION_PREVIOUS_KEYS);
}

/** The associated data of each sealed column: table, column and row. */
export const sealContext = {
  refreshToken: (accountId: string) => `mail_grants.refresh_token:${accountId}`,
  accessToken: (accountId: string) => `mail_grants.access_token:${accountId}`,
  codeVerifier: (sessionId: string) => `mail_oauth_sessions.code_verifier:${sessionId}`,
} as const;
