// Password hashing with argon2id (@node-rs/argon2 defaults: 19 MiB, t=2, p=1, the OWASP
// baseline). Unknown emails are verified against a dummy hash, so a login for an account
// that does not exist costs about as much time as one with a wrong password.
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Checks a password against a stored hash; with no hash, burns the same time and says no. */
  verify(storedHash: string | null, password: string): Promise<boolean>;
}

export function createPasswordHasher(): PasswordHasher {
  let dummy: Promise<string> | undefined;
  const dummyHash = () => (dummy ??= hash(randomBytes(32).toString('base64url')));
  return {
    hash: (password) => hash(password),
    async verify(storedHash, password) {
      if (storedHash === null) {
        await verify(await dummyHash(), password);
        return false;
      }
      return verify(storedHash, password);
    },
  };
}
