-- Hardening of the SECURITY DEFINER functions, and of what they and the jobs table reveal (issue 6):
--   1. no pg_temp shadowing: a safe search_path for every definer function, no TEMPORARY;
--   2. maintenance limits (retention, staleness, batch sizes) fixed here, not by the caller;
--   3. an API key's lookup answers its creator's current role, which caps the key;
--   4. jobs about a private document are its owner's alone (jobs.private_to).
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

-- A new function is executable by PUBLIC unless that is revoked. Migration 1 meant to stop it
-- with ALTER DEFAULT PRIVILEGES IN SCHEMA public … REVOKE, but a per-schema default can only add
-- to the global one, never take from it: reembed_candidates (migration 5) was left to PUBLIC.
-- From here on the owner's functions start with no EXECUTE for anyone but the owner, and each
-- one quarry_app calls is granted by name (reembed_candidates is recreated below).
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

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

-- API-key authentication: the key row for a visible prefix, with the role its creator holds in
-- the key's tenant now. A key may never do more than its creator may do today, so the caller
-- caps the key's role with creator_role, and refuses the key when it is NULL: the creator left
-- the tenant or deleted their account (api_keys.created_by is then NULL). It is read in the
-- same lookup, on every request, so a demotion or removal takes effect at once.
DROP FUNCTION auth_lookup_api_key(text);
CREATE FUNCTION auth_lookup_api_key(p_prefix text)
  RETURNS TABLE (
    id uuid, tenant_id uuid, key_hash text, role text, creator_role text,
    expires_at timestamptz, revoked_at timestamptz
  )
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT k.id, k.tenant_id, k.key_hash, k.role, m.role, k.expires_at, k.revoked_at
    FROM public.api_keys k
    LEFT JOIN public.memberships m ON m.tenant_id = k.tenant_id AND m.user_id = k.created_by
    WHERE k.prefix = p_prefix
  $$;
GRANT EXECUTE ON FUNCTION auth_lookup_api_key(text) TO quarry_app;

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

-- Limits of the maintenance lookups, fixed on the server ------------------------------------
-- The functions below reach every tenant, so what they remove or reveal must not be the caller's
-- to choose: as quarry_app, maintenance_purge_sessions('infinity') used to delete every session
-- of every tenant. Their limits live here, in one place only the schema owner can change (a
-- migration that replaces this function); quarry_app may not even execute it.
CREATE FUNCTION maintenance_limits()
  RETURNS TABLE (
    session_retention interval,  -- sessions expired or revoked longer ago than this are removed
    api_key_retention interval,  -- API keys expired or revoked longer ago than this are removed
    reconcile_after   interval,  -- an unfinished job's ids leave the lookup only once it is this stale
    reconcile_batch   integer    -- the most jobs one reconciliation lookup answers
  )
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp
  AS $$ SELECT interval '7 days', interval '7 days', interval '5 minutes', 500 $$;

DROP FUNCTION maintenance_purge_sessions(timestamptz);
DROP FUNCTION maintenance_purge_api_keys(timestamptz);

-- Maintenance: remove sessions that expired or were revoked longer ago than the retention.
CREATE FUNCTION maintenance_purge_sessions() RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    WITH cutoff AS (SELECT now() - l.session_retention AS at FROM public.maintenance_limits() l),
    gone AS (
      DELETE FROM public.sessions s USING cutoff
      WHERE s.expires_at < cutoff.at OR s.revoked_at < cutoff.at
      RETURNING 1
    ) SELECT count(*) FROM gone
  $$;

-- Maintenance: remove API keys revoked or expired longer ago than the retention.
CREATE FUNCTION maintenance_purge_api_keys() RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    WITH cutoff AS (SELECT now() - l.api_key_retention AS at FROM public.maintenance_limits() l),
    gone AS (
      DELETE FROM public.api_keys k USING cutoff
      WHERE k.revoked_at < cutoff.at OR k.expires_at < cutoff.at
      RETURNING 1
    ) SELECT count(*) FROM gone
  $$;

GRANT EXECUTE ON FUNCTION maintenance_purge_sessions(), maintenance_purge_api_keys() TO quarry_app;

-- Jobs follow the visibility of their subject ------------------------------------------------
-- A private document is its uploader's alone, and so are the jobs about it (its ingestions and
-- its deletion): their rows and events carried its id, uploader and counts to every member,
-- viewer and API key. private_to names the user a job is private to (NULL: the whole tenant's).
-- It is set when the job row is written, in that user's context, and the policies below hide
-- the row and its events from every other context, as documents_visible hides the document.
ALTER TABLE jobs ADD COLUMN private_to uuid; -- no foreign key: a gone account must not block a job
ALTER TABLE jobs ADD CONSTRAINT jobs_private_to_tenant CHECK (private_to IS NULL OR tenant_id IS NOT NULL);

-- The jobs of private documents written before this migration. The schema owner is held to the
-- policies too (FORCE), and a migration has no context, so both tables drop FORCE for the
-- length of this statement, inside this migration's transaction.
ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE documents NO FORCE ROW LEVEL SECURITY;
UPDATE jobs j SET private_to = d.owner_user_id
FROM documents d
WHERE d.visibility = 'private' AND d.tenant_id = j.tenant_id AND d.id::text = j.subject
  AND j.kind IN ('ingestion', 'document-deletion');
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;

DROP POLICY jobs_scope ON jobs;
CREATE POLICY jobs_scope ON jobs
  USING (
    (tenant_id = app_current_tenant() AND (private_to IS NULL OR private_to = app_current_user()))
    OR (tenant_id IS NULL AND app_platform_scope())
  )
  WITH CHECK (
    (tenant_id = app_current_tenant() AND (private_to IS NULL OR private_to = app_current_user()))
    OR (tenant_id IS NULL AND app_platform_scope())
  );

-- An event is visible only with its job, so it follows the job's visibility, whatever it is.
DROP POLICY job_events_scope ON job_events;
CREATE POLICY job_events_scope ON job_events
  USING (
    (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_platform_scope()))
    AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_events.job_id)
  )
  WITH CHECK (
    (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_platform_scope()))
    AND EXISTS (
      SELECT 1 FROM jobs j
      WHERE j.id = job_events.job_id AND j.tenant_id IS NOT DISTINCT FROM job_events.tenant_id
    )
  );

-- Nothing changes a document's visibility or owner after upload (the API has no way to), and
-- its chunks and jobs carry both as written then. Rather than let them drift apart, the database
-- refuses the change; offering one would mean re-stamping the chunks and jobs in the same
-- transaction. AFTER, so that a context that may not write the row meets the policy first.
CREATE FUNCTION documents_keep_visibility() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
  BEGIN
    RAISE EXCEPTION 'the visibility and owner of document % are fixed at upload', OLD.id
      USING ERRCODE = 'check_violation';
  END
  $$;
CREATE TRIGGER documents_keep_visibility AFTER UPDATE OF visibility, owner_user_id ON documents
  FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility OR OLD.owner_user_id IS DISTINCT FROM NEW.owner_user_id)
  EXECUTE FUNCTION documents_keep_visibility();

-- Reconciliation: jobs of every tenant that still say queued or running (ids only, and the user
-- a private one is written as). The caller may ask for jobs staler than the server's floor, and
-- for fewer than a batch, never for more.
DROP FUNCTION maintenance_unfinished_jobs(timestamptz, integer);
CREATE FUNCTION maintenance_unfinished_jobs(p_older_than timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, private_to uuid, workflow_id text, run_id text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT j.tenant_id, j.private_to, j.workflow_id, j.run_id
    FROM public.jobs j
    WHERE j.status IN ('queued', 'running')
      AND j.updated_at < LEAST(p_older_than, now() - (SELECT l.reconcile_after FROM public.maintenance_limits() l))
    ORDER BY j.updated_at
    LIMIT LEAST(GREATEST(p_limit, 0), (SELECT l.reconcile_batch FROM public.maintenance_limits() l))
  $$;
GRANT EXECUTE ON FUNCTION maintenance_unfinished_jobs(timestamptz, integer) TO quarry_app;

-- Re-embedding: the current tenant's documents whose active version has vectors of another model,
-- with each one's owner and visibility (its ingestion runs as the owner, and is private with the
-- document); a page of at most 100 whatever the caller asks (the re-embed workflow asks for 10).
DROP FUNCTION reembed_candidates(text, integer, uuid, integer);
CREATE FUNCTION reembed_candidates(p_model text, p_dimensions integer, p_after uuid, p_limit integer)
  RETURNS TABLE (id uuid, owner_user_id uuid, visibility text, latest_version integer)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT d.id, d.owner_user_id, d.visibility, d.latest_version
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
    LIMIT LEAST(GREATEST(p_limit, 0), 100)
  $$;
GRANT EXECUTE ON FUNCTION reembed_candidates(text, integer, uuid, integer) TO quarry_app;

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
