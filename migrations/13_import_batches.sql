-- Batch imports (issue 10): many small documents built by one import workflow, each keeping a job
-- of its own. Such a job names the document's ingestion workflow id as every ingestion job does,
-- with the run of the import that builds it, and `carrier_workflow_id` says whose run that is: the
-- import's. Reconciliation asks Temporal about the carrier's run, which is the one that can end
-- the job (a document's own workflow id has no run of that id).
ALTER TABLE jobs ADD COLUMN carrier_workflow_id text
  CHECK (carrier_workflow_id IS NULL OR carrier_workflow_id <> workflow_id);

DROP FUNCTION maintenance_unfinished_jobs(timestamptz, integer);
CREATE FUNCTION maintenance_unfinished_jobs(p_older_than timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, private_to uuid, workflow_id text, run_id text, carrier_workflow_id text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT j.tenant_id, j.private_to, j.workflow_id, j.run_id, j.carrier_workflow_id
    FROM public.jobs j
    WHERE j.status IN ('queued', 'running')
      AND j.updated_at < LEAST(p_older_than, now() - (SELECT l.reconcile_after FROM public.maintenance_limits() l))
    ORDER BY j.updated_at
    LIMIT LEAST(GREATEST(p_limit, 0), (SELECT l.reconcile_batch FROM public.maintenance_limits() l))
  $$;
REVOKE ALL ON FUNCTION maintenance_unfinished_jobs(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maintenance_unfinished_jobs(timestamptz, integer) TO quarry_app;
