// API keys for machine clients: `qk_<prefix>_<secret>`. The prefix is stored in clear so the
// key can be found (auth_lookup_api_key) and shown in listings; the whole key is stored only
// as a SHA-256 digest. The secret has 256 random bits, so a fast digest is enough: there is
// nothing to brute-force that a slow password hash would protect.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^qk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedApiKey {
  /** The full key, shown to its creator once. */
  readonly key: string;
  readonly prefix: string;
  readonly hash: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = randomBytes(6).toString('hex');
  const key = `qk_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** Whether a bearer credential is meant as an API key rather than a JWT. */
export function isApiKeyShaped(credential: string): boolean {
  return credential.startsWith('qk_');
}

/** The visible prefix of a well-formed key, or null. */
export function apiKeyPrefix(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null;
}

/** Compares the key's digest with the stored one in constant time. */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const given = Buffer.from(hashApiKey(key), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
