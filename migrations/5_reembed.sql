-- Re-embedding after a change of embedding model: the documents of the current tenant whose
-- active version holds vectors of another model or dimension. A tenant-wide job must reach the
-- members' private documents too, which a tenant context cannot see, so this narrow definer
-- lookup answers ids, owners and versions only; each document is then re-embedded as its owner.
CREATE POLICY documents_definer_read ON documents FOR SELECT TO CURRENT_USER USING (app_definer_scope());
CREATE POLICY chunks_definer_read ON chunks FOR SELECT TO CURRENT_USER USING (app_definer_scope());

CREATE FUNCTION reembed_candidates(p_model text, p_dimensions integer, p_after uuid, p_limit integer)
  RETURNS TABLE (id uuid, owner_user_id uuid, latest_version integer)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
    SELECT d.id, d.owner_user_id, d.latest_version
    FROM documents d
    WHERE d.tenant_id = app_current_tenant()
      AND d.active_version IS NOT NULL AND d.status <> 'processing'
      AND (p_after IS NULL OR d.id > p_after)
      AND EXISTS (
        SELECT 1 FROM chunks c
        WHERE c.document_id = d.id AND c.version = d.active_version
          AND (c.embedding_model IS DISTINCT FROM p_model OR c.embedding_dims IS DISTINCT FROM p_dimensions)
      )
    ORDER BY d.id
    LIMIT p_limit
  $$;

GRANT EXECUTE ON FUNCTION reembed_candidates(text, integer, uuid, integer) TO quarry_app;
