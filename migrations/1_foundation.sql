-- Foundation: tenancy, identity, sessions, API keys, jobs and their events, audit log.
-- Every table that holds tenant or user data has ENABLE + FORCE ROW LEVEL SECURITY with
-- USING and WITH CHECK policies keyed on transaction-local settings set by db/with-tenant.ts.
-- Unset settings read as NULL, so every policy is fail-closed.

CREATE FUNCTION app_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION app_current_user() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

-- Platform scope: set only by the worker's maintenance activities and by platform admins.
CREATE FUNCTION app_platform_scope() RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT COALESCE(NULLIF(current_setting('app.platform', true), '') = 'on', false) $$;

-- Definer scope: true only while a SECURITY DEFINER function runs on behalf of another login
-- (the current role then differs from the session's). Those functions run as the schema
-- owner, whom FORCE ROW LEVEL SECURITY holds to the policies too, so without this scope they
-- would see no rows. The policies that honour it apply to the owner alone, and the owner's
-- own sessions (migrations) still see nothing without a tenant context.
CREATE FUNCTION app_definer_scope() RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT session_user IS DISTINCT FROM current_user $$;

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  email         text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  password_hash text NOT NULL,
  display_name  text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
  is_admin      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE tenants (
  id         uuid PRIMARY KEY,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE sessions (
  id         uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  user_agent text,
  ip         text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expiry_idx ON sessions (expires_at);

CREATE TABLE api_keys (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  prefix       text NOT NULL UNIQUE,
  key_hash     text NOT NULL,
  role         text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);

CREATE TABLE jobs (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid REFERENCES tenants (id) ON DELETE CASCADE, -- NULL for platform jobs
  kind        text NOT NULL,
  subject     text NOT NULL,
  workflow_id text NOT NULL,
  run_id      text NOT NULL,
  status      text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  progress    jsonb NOT NULL DEFAULT '{}'::jsonb,
  error       text,
  attempts    integer NOT NULL DEFAULT 0,
  created_by  uuid, -- who asked; no foreign key, so a deleted account never blocks a job
  created_at  timestamptz NOT NULL DEFAULT now(),
  started_at  timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (workflow_id, run_id)
);
CREATE INDEX jobs_tenant_created_idx ON jobs (tenant_id, created_at DESC, id DESC);
CREATE INDEX jobs_kind_status_idx ON jobs (kind, status);

CREATE TABLE job_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  tenant_id   uuid REFERENCES tenants (id) ON DELETE CASCADE,
  step        text NOT NULL,
  status      text NOT NULL CHECK (status IN ('started', 'completed', 'failed', 'retrying', 'cancelled', 'info')),
  attempt     integer NOT NULL DEFAULT 1,
  duration_ms integer,
  message     text,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX job_events_job_idx ON job_events (job_id, id);
CREATE INDEX job_events_tenant_idx ON job_events (tenant_id);

CREATE TABLE audit_log (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     uuid REFERENCES tenants (id) ON DELETE CASCADE, -- NULL for events of a user alone
  actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  actor_api_key uuid REFERENCES api_keys (id) ON DELETE SET NULL,
  action        text NOT NULL,
  target_type   text,
  target_id     text,
  request_id    text,
  details       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, created_at DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id);

-- Row-level security -------------------------------------------------------------------

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
-- A user sees their own row, and the rows of fellow members of the current tenant, but
-- writes only their own: a fellow member's account, which may belong to other tenants too,
-- can be neither changed nor deleted from this tenant's context.
CREATE POLICY users_self_or_tenant ON users FOR SELECT
  USING (
    id = app_current_user()
    OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.tenant_id = app_current_tenant())
  );
CREATE POLICY users_insert_self ON users FOR INSERT
  WITH CHECK (id = app_current_user());
CREATE POLICY users_update_self ON users FOR UPDATE
  USING (id = app_current_user())
  WITH CHECK (id = app_current_user());
CREATE POLICY users_delete_self ON users FOR DELETE
  USING (id = app_current_user());

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_current ON tenants
  USING (id = app_current_tenant())
  WITH CHECK (id = app_current_tenant());

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_current_tenant ON memberships
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_own ON sessions
  USING (user_id = app_current_user())
  WITH CHECK (user_id = app_current_user());

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_current_tenant ON api_keys
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY jobs_scope ON jobs
  USING (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_platform_scope()))
  WITH CHECK (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_platform_scope()));

ALTER TABLE job_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_events FORCE ROW LEVEL SECURITY;
-- An event is written only for a job the context can see, and carries that job's tenant:
-- a tenant cannot attach events to another tenant's job.
CREATE POLICY job_events_scope ON job_events
  USING (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_platform_scope()))
  WITH CHECK (
    (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_platform_scope()))
    AND EXISTS (
      SELECT 1 FROM jobs j
      WHERE j.id = job_events.job_id AND j.tenant_id IS NOT DISTINCT FROM job_events.tenant_id
    )
  );

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_scope ON audit_log
  USING (
    tenant_id = app_current_tenant()
    OR (tenant_id IS NULL AND actor_user_id = app_current_user())
  )
  WITH CHECK (
    tenant_id = app_current_tenant()
    OR (tenant_id IS NULL AND actor_user_id = app_current_user())
  );

-- The owner's definer scope: what the SECURITY DEFINER functions below may read or delete.
CREATE POLICY users_definer_read ON users FOR SELECT TO CURRENT_USER USING (app_definer_scope());
CREATE POLICY tenants_definer_read ON tenants FOR SELECT TO CURRENT_USER USING (app_definer_scope());
CREATE POLICY memberships_definer_read ON memberships FOR SELECT TO CURRENT_USER USING (app_definer_scope());
CREATE POLICY api_keys_definer_read ON api_keys FOR SELECT TO CURRENT_USER USING (app_definer_scope());
CREATE POLICY api_keys_definer_purge ON api_keys FOR DELETE TO CURRENT_USER USING (app_definer_scope());
CREATE POLICY sessions_definer_read ON sessions FOR SELECT TO CURRENT_USER USING (app_definer_scope());
CREATE POLICY sessions_definer_purge ON sessions FOR DELETE TO CURRENT_USER USING (app_definer_scope());
CREATE POLICY jobs_definer_read ON jobs FOR SELECT TO CURRENT_USER USING (app_definer_scope());

-- Narrow SECURITY DEFINER lookups for the moments before a tenant is known ---------------

-- Login: the id, hash and admin flag of the account with this email, if any.
CREATE FUNCTION auth_lookup_user(p_email text)
  RETURNS TABLE (id uuid, password_hash text, is_admin boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT u.id, u.password_hash, u.is_admin FROM users u WHERE u.email = lower(p_email) $$;

-- Registration: whether an email is taken, without revealing anything else.
CREATE FUNCTION auth_email_taken(p_email text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT EXISTS (SELECT 1 FROM users u WHERE u.email = lower(p_email)) $$;

-- Adding a member by email: the user id only.
CREATE FUNCTION auth_user_id_by_email(p_email text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT u.id FROM users u WHERE u.email = lower(p_email) $$;

-- API-key authentication: the key row for a visible prefix.
CREATE FUNCTION auth_lookup_api_key(p_prefix text)
  RETURNS TABLE (id uuid, tenant_id uuid, key_hash text, role text, expires_at timestamptz, revoked_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
    SELECT k.id, k.tenant_id, k.key_hash, k.role, k.expires_at, k.revoked_at
    FROM api_keys k WHERE k.prefix = p_prefix
  $$;

-- "List my tenants": the memberships of the user in app.user_id, and nobody else's.
CREATE FUNCTION auth_my_tenants()
  RETURNS TABLE (id uuid, name text, role text, created_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
    SELECT t.id, t.name, m.role, t.created_at
    FROM memberships m JOIN tenants t ON t.id = m.tenant_id
    WHERE m.user_id = NULLIF(current_setting('app.user_id', true), '')::uuid
    ORDER BY t.created_at, t.id
  $$;

-- Maintenance: remove sessions that expired or were revoked before the cutoff.
CREATE FUNCTION maintenance_purge_sessions(p_cutoff timestamptz) RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
    WITH gone AS (
      DELETE FROM sessions
      WHERE (expires_at < p_cutoff OR revoked_at < p_cutoff)
      RETURNING 1
    ) SELECT count(*) FROM gone
  $$;

-- Maintenance: remove API keys revoked or expired before the cutoff.
CREATE FUNCTION maintenance_purge_api_keys(p_cutoff timestamptz) RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
    WITH gone AS (
      DELETE FROM api_keys
      WHERE (revoked_at < p_cutoff OR expires_at < p_cutoff)
      RETURNING 1
    ) SELECT count(*) FROM gone
  $$;

-- Grants to the runtime role ------------------------------------------------------------

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO quarry_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO quarry_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO quarry_app;
GRANT EXECUTE ON FUNCTION
  app_current_tenant(), app_current_user(), app_platform_scope(),
  auth_lookup_user(text), auth_email_taken(text), auth_user_id_by_email(text),
  auth_lookup_api_key(text), auth_my_tenants(),
  maintenance_purge_sessions(timestamptz), maintenance_purge_api_keys(timestamptz)
  TO quarry_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO quarry_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO quarry_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
-- The migration runner's own bookkeeping is not the runtime role's business.
REVOKE ALL ON TABLE migrations FROM quarry_app;

-- Column privileges. The runtime role writes only these columns of users: is_admin is set
-- by an operator as the schema owner, never by the application, and a user's own row
-- (which the policies let them update) cannot make them a platform admin. Password hashes
-- are read only through auth_lookup_user, never by fellow members.
REVOKE INSERT, UPDATE, SELECT ON users FROM quarry_app;
GRANT SELECT (id, email, display_name, is_admin, created_at) ON users TO quarry_app;
GRANT INSERT (id, email, password_hash, display_name) ON users TO quarry_app;
GRANT UPDATE (email, password_hash, display_name) ON users TO quarry_app;

-- The audit log is append-only for the runtime role.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM quarry_app;
