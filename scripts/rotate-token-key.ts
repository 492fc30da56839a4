// `npm run rotate-token-key`: re-seals every mail OAuth grant and live OAuth session under the
// current TOKEN_ENCRYPTION_KEY (mail/rotate-token-key.ts), as the schema owner
// (MIGRATION_DATABASE_URL). Keys the old ciphertexts were sealed with must be in
// TOKEN_ENCRYPTION_PREVIOUS_KEYS. Safe to run again: it touches only rows under another key.
import { loadConfig } from '../config.ts';
import { createDatabasePool } from '../db/pool.ts';
import { rotateTokenKey } from '../mail/rotate-token-key.ts';
import { tokenCipherOf } from '../mail/token-cipher.ts';

const config = loadConfig();
const cipher = tokenCipherOf(config);
if (!cipher) throw new Error('TOKEN_ENCRYPTION_KEY is not set: it names the key to re-seal under');
if (!config.MIGRATION_DATABASE_URL) throw new Error('MIGRATION_DATABASE_URL (the schema owner) is not set');
const owner = await createDatabasePool(config.MIGRATION_DATABASE_URL, { maxPoolSize: 1 });
try {
  const { grants, sessions } = await rotateTokenKey(owner, cipher);
  console.log(`quarry: re-sealed ${grants} grant(s) and ${sessions} OAuth session(s) under key ${cipher.currentKeyId}`);
} finally {
  await owner.end();
}
