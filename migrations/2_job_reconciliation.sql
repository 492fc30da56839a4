-- Reconciliation: the maintenance workflow looks for jobs that still say queued or running
-- across all tenants, so that a job whose workflow was terminated or timed out (and so
-- could not record its own end) gets its final status. Only the ids leave this function;
-- each status change is then written under that job's own tenant context.
CREATE FUNCTION maintenance_unfinished_jobs(p_older_than timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, workflow_id text, run_id text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
    SELECT j.tenant_id, j.workflow_id, j.run_id
    FROM jobs j
    WHERE j.status IN ('queued', 'running') AND j.updated_at < p_older_than
    ORDER BY j.updated_at
    LIMIT p_limit
  $$;

REVOKE ALL ON FUNCTION maintenance_unfinished_jobs(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maintenance_unfinished_jobs(timestamptz, integer) TO quarry_app;
