// Runs the ordered SQL files in migrations/ as the schema owner, with postgres-migrations:
// each file in its own transaction, recorded with a hash, under an advisory lock. A file
// that was already applied and has since been edited is refused.
import path from 'node:path';
import pg from 'pg';
import { migrate } from 'postgres-migrations';
import { projectRoot } from '../config.ts';

export const migrationsDir = path.join(projectRoot, 'migrations');

/** Thrown when an applied migration's file no longer matches the hash recorded for it. */
export class EditedMigrationError extends Error {
  constructor(
    readonly files: string,
    cause: Error,
  ) {
    super(
      `Refusing to migrate: migration ${files} was edited after it was applied. ` +
        'Restore the original file and add a new migration for the change.',
      { cause },
    );
    this.name = 'EditedMigrationError';
  }
}

export async function runMigrations(ownerUrl: string, directory = migrationsDir): Promise<string[]> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const applied = await migrate({ client }, directory, { logger: () => undefined });
    return applied.map((migration) => migration.fileName);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const edited = /Hashes don't match for migrations '([^']*)'/.exec(message);
    if (edited && error instanceof Error) throw new EditedMigrationError(edited[1] ?? '', error);
    throw error;
  } finally {
    await client.end();
  }
}
