// Creates the database, its two roles and the pgvector extension, as a superuser.
// Idempotent: existing roles keep their attributes reset to the required ones.
//   quarry_owner: owns the schema and runs migrations.
//   quarry_app:   what the API and worker log in as; NOSUPERUSER NOBYPASSRLS, owns no table.
import pg from 'pg';

export const OWNER_ROLE = 'quarry_owner';
export const APP_ROLE = 'quarry_app';

export interface BootstrapOptions {
  readonly superuserUrl: string;
  readonly database: string;
  readonly ownerPassword: string;
  readonly appPassword: string;
}

/** Runs `fn` with a plain pg client connected to `url`, and closes it. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function bootstrapDatabase(options: BootstrapOptions): Promise<void> {
  const { superuserUrl, database, ownerPassword, appPassword } = options;
  await withClient(superuserUrl, async (client) => {
    const ident = (name: string) => client.escapeIdentifier(name);
    const literal = (value: string) => client.escapeLiteral(value);
    const roles = [
      [OWNER_ROLE, ownerPassword, 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS'],
      [APP_ROLE, appPassword, 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT NOREPLICATION'],
    ] as const;
    for (const [role, password, attributes] of roles) {
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      const verb = exists.rowCount ? 'ALTER' : 'CREATE';
      await client.query(`${verb} ROLE ${ident(role)} LOGIN ${attributes} PASSWORD ${literal(password)}`);
    }
    const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!db.rowCount) await client.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(OWNER_ROLE)}`);
  });

  const url = new URL(superuserUrl);
  url.pathname = `/${database}`;
  await withClient(url.toString(), async (client) => {
    // pgvector is not a trusted extension, so the superuser creates it once.
    await client.query('CREATE EXTENSION IF NOT EXISTS vector');
    const db = client.escapeIdentifier(database);
    await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${OWNER_ROLE}, ${APP_ROLE}`);
    // No temporary tables for the runtime role: one named like a table of public would shadow it
    // (see migrations/7_definer_hardening.sql). Revoked again here, as this runs on every start,
    // for databases bootstrapped before that.
    await client.query(`REVOKE TEMPORARY ON DATABASE ${db} FROM ${APP_ROLE}`);
    await client.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await client.query(`ALTER SCHEMA public OWNER TO ${OWNER_ROLE}`);
  });
}

export function roleUrl(superuserUrl: string, database: string, role: string, password: string): string {
  const url = new URL(superuserUrl);
  url.username = role;
  url.password = password;
  url.pathname = `/${database}`;
  return url.toString();
}
