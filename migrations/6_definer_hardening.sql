-- Hardening of the SECURITY DEFINER functions (issue 6).
--
-- A definer function runs as the schema owner. Its search_path was `pg_catalog, public`, and a
-- search_path that does not name pg_temp searches it FIRST for tables and views: quarry_app could
-- create pg_temp.sessions (or users, jobs…) with a trigger or a function of its own, and a definer
-- function would then run that code as quarry_owner. PostgreSQL's documentation ("Writing
-- SECURITY DEFINER Functions Safely") gives the cure used here, twice over:
--   * every definer function sets `search_path = pg_catalog, public, pg_temp`, with pg_temp
--     explicitly last, and names every table and function of ours schema-qualified;
--   * quarry_app (and PUBLIC) lose TEMPORARY on the database, so there is nothing to shadow with.
-- test/definer-attack.test.ts attacks every definer function found in pg_proc this way.

-- Login: the id, hash and admin flag of the account with this email, if any.
CREATE OR REPLACE FUNCTION auth_lookup_user(p_email text)
  RETURNS TABLE (id uuid, password_hash text, is_admin boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$ SELECT u.id, u.password_hash, u.is_admin FROM public.users u WHERE u.email = lower(p_email) $$;

-- Registration: whether an email is taken, without revealing anything else.
CREATE OR REPLACE FUNCTION auth_email_taken(p_email text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$ SELECT EXISTS (SELECT 1 FROM public.users u WHERE u.email = lower(p_email)) $$;

-- Adding a member by email: the user id only.
CREATE OR REPLACE FUNCTION auth_user_id_by_email(p_email text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$ SELECT u.id FROM public.users u WHERE u.email = lower(p_email) $$;

-- API-key authentication: the key row for a visible prefix.
CREATE OR REPLACE FUNCTION auth_lookup_api_key(p_prefix text)
  RETURNS TABLE (id uuid, tenant_id uuid, key_hash text, role text, expires_at timestamptz, revoked_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT k.id, k.tenant_id, k.key_hash, k.role, k.expires_at, k.revoked_at
    FROM public.api_keys k WHERE k.prefix = p_prefix
  $$;

-- "List my tenants": the memberships of the user in app.user_id, and nobody else's.
CREATE OR REPLACE FUNCTION auth_my_tenants()
  RETURNS TABLE (id uuid, name text, role text, created_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT t.id, t.name, m.role, t.created_at
    FROM public.memberships m JOIN public.tenants t ON t.id = m.tenant_id
    WHERE m.user_id = public.app_current_user()
    ORDER BY t.created_at, t.id
  $$;

-- Maintenance: remove sessions that expired or were revoked before the cutoff.
CREATE OR REPLACE FUNCTION maintenance_purge_sessions(p_cutoff timestamptz) RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    WITH gone AS (
      DELETE FROM public.sessions
      WHERE (expires_at < p_cutoff OR revoked_at < p_cutoff)
      RETURNING 1
    ) SELECT count(*) FROM gone
  $$;

-- Maintenance: remove API keys revoked or expired before the cutoff.
CREATE OR REPLACE FUNCTION maintenance_purge_api_keys(p_cutoff timestamptz) RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    WITH gone AS (
      DELETE FROM public.api_keys
      WHERE (revoked_at < p_cutoff OR expires_at < p_cutoff)
      RETURNING 1
    ) SELECT count(*) FROM gone
  $$;

-- Reconciliation: jobs of every tenant that still say queued or running (ids only).
CREATE OR REPLACE FUNCTION maintenance_unfinished_jobs(p_older_than timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, workflow_id text, run_id text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT j.tenant_id, j.workflow_id, j.run_id
    FROM public.jobs j
    WHERE j.status IN ('queued', 'running') AND j.updated_at < p_older_than
    ORDER BY j.updated_at
    LIMIT p_limit
  $$;

-- Re-embedding: the current tenant's documents whose active version has vectors of another model.
CREATE OR REPLACE FUNCTION reembed_candidates(p_model text, p_dimensions integer, p_after uuid, p_limit integer)
  RETURNS TABLE (id uuid, owner_user_id uuid, latest_version integer)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT d.id, d.owner_user_id, d.latest_version
    FROM public.documents d
    WHERE d.tenant_id = public.app_current_tenant()
      AND d.active_version IS NOT NULL AND d.status <> 'processing'
      AND (p_after IS NULL OR d.id > p_after)
      AND EXISTS (
        SELECT 1 FROM public.chunks c
        WHERE c.document_id = d.id AND c.version = d.active_version
          AND (c.embedding_model IS DISTINCT FROM p_model OR c.embedding_dims IS DISTINCT FROM p_dimensions)
      )
    ORDER BY d.id
    LIMIT p_limit
  $$;

-- No temporary objects for the runtime role, nor for anyone through PUBLIC. The database owner
-- (quarry_owner, which runs this) can revoke what the bootstrap superuser granted in its name;
-- should the database belong to someone else, the REVOKE would only warn, so the result is
-- checked and the migration refuses to pass with the hole still open.
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC, quarry_app', current_database());
  IF has_database_privilege('quarry_app', current_database(), 'TEMPORARY') THEN
    RAISE EXCEPTION 'quarry_app may still create temporary tables in database %', current_database()
      USING HINT = 'Run REVOKE TEMPORARY ON DATABASE … FROM PUBLIC, quarry_app as its owner or a superuser.';
  END IF;
END
$$;
