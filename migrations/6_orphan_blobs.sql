-- Orphan blobs: the maintenance sweep finds document blob folders that no document row owns
-- (an upload whose registration failed, a process that died between the blob and the row) and
-- removes them. Whether a document exists must be told across its owners' private documents
-- too, which a tenant context cannot see, so this narrow definer lookup answers, of the ids it
-- is given, those that no document of the current tenant has; it reveals nothing else.
-- The tenant comes from the transaction-local setting only; pg_temp is searched last and every
-- name is schema-qualified, so a temporary relation cannot stand in for a table.
CREATE FUNCTION maintenance_unknown_documents(p_ids uuid[])
  RETURNS TABLE (id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT candidate.id
    FROM pg_catalog.unnest(p_ids) AS candidate(id)
    WHERE public.app_current_tenant() IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM public.documents d
        WHERE d.tenant_id = public.app_current_tenant() AND d.id = candidate.id
      )
  $$;

REVOKE ALL ON FUNCTION maintenance_unknown_documents(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maintenance_unknown_documents(uuid[]) TO quarry_app;
