-- BM25 for the lexical leg (issue 9): postings and collection statistics, per tenant, kept by
-- PostgreSQL itself as versions activate.
--
-- Until now the lexical leg matched `tsv @@ websearch_to_tsquery(...)`: every query word had to
-- be in one chunk (AND), the rank was ts_rank_cd (no IDF, no BM25 length normalisation), and,
-- because `@@` is not LEAKPROOF, the GIN index could not be used behind the row-level policy, so
-- every search read the whole tenant. BM25 needs, per term, the chunks that hold it with their
-- term frequency and length, the term's document frequency, and the collection's size and
-- average length. All of them are here, as ordinary rows under ordinary policies:
--
--   lexical_postings  one row per (term, chunk) of every chunk that search serves (the active
--                     version of each document), with tf and the chunk's length. Its primary key
--                     leads with (tenant_id, ts_config, term): equality on uuid and text is
--                     LEAKPROOF, so the planner may use the index ahead of the policy, and a
--                     query reads the postings of its own terms in its own tenant and nothing
--                     else. The policy is the chunks' policy (tenant, and a private chunk's owner
--                     alone) on `private_to`, the owner of a private chunk (NULL for a shared
--                     one), so a private chunk's terms count toward nobody's statistics but its
--                     owner's. Rows are kept narrow (no document id, tf as smallint, NULL for
--                     shared chunks' owner): there is one per distinct term of every chunk.
--   lexical_stats     per tenant and visibility scope (tenant-wide, or one owner's private
--                     chunks), the number of chunks and their total length, kept by a trigger
--                     on lexical_postings, so that it always equals what the postings hold. A
--                     search sums the scopes it can see.
--
-- Document frequency is counted at query time from the postings a context can see (an index
-- scan of the term's postings, which the scoring reads anyway), so it is exact for every user,
-- private documents included, and needs no write at ingestion beyond the postings themselves.
--
-- Postings are written when a version becomes active and removed when it stops being active
-- (a new version, or the document deleted: the chunks' ON DELETE CASCADE). Terms and tf come
-- from the chunk's `tsv` (migration 9), so the lexical leg and the phrase checks read one
-- analysis. A chunk whose text yields no term has no postings and is not counted in N.
--
-- No core function is marked LEAKPROOF and nothing is SECURITY DEFINER: the triggers run as the
-- caller, under the caller's policies.

CREATE TABLE lexical_postings (
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  ts_config  text NOT NULL,
  term       text NOT NULL,
  chunk_id   uuid NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
  tf         smallint NOT NULL CHECK (tf > 0),  -- at most 256: a tsvector keeps no more positions
  length     integer NOT NULL CHECK (length > 0),
  private_to uuid,
  -- The scoring and the policy read every column from the index alone (an index-only scan).
  PRIMARY KEY (tenant_id, ts_config, term, chunk_id) INCLUDE (tf, length, private_to)
);
-- For the cascade from chunks, and for removing a version's postings.
CREATE INDEX lexical_postings_chunk_idx ON lexical_postings (chunk_id);

CREATE TABLE lexical_stats (
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- NULL for the tenant-wide scope, else the owner of the private chunks counted here.
  private_to    uuid,
  chunk_count   bigint NOT NULL CHECK (chunk_count >= 0),
  total_length  bigint NOT NULL CHECK (total_length >= 0),
  UNIQUE NULLS NOT DISTINCT (tenant_id, private_to)
);

ALTER TABLE lexical_postings ENABLE ROW LEVEL SECURITY;
ALTER TABLE lexical_postings FORCE ROW LEVEL SECURITY;
-- A posting is written only for a chunk the context can see, and carries that chunk's tenant
-- and privacy, as chunks do for their document.
CREATE POLICY lexical_postings_visible ON lexical_postings
  USING (tenant_id = app_current_tenant() AND (private_to IS NULL OR private_to = app_current_user()))
  WITH CHECK (
    tenant_id = app_current_tenant()
    AND (private_to IS NULL OR private_to = app_current_user())
    AND EXISTS (
      SELECT 1 FROM chunks c
      WHERE c.id = lexical_postings.chunk_id AND c.tenant_id = lexical_postings.tenant_id
        AND (CASE c.visibility WHEN 'private' THEN c.owner_user_id END) IS NOT DISTINCT FROM lexical_postings.private_to
    )
  );

ALTER TABLE lexical_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE lexical_stats FORCE ROW LEVEL SECURITY;
CREATE POLICY lexical_stats_visible ON lexical_stats
  USING (tenant_id = app_current_tenant() AND (private_to IS NULL OR private_to = app_current_user()))
  WITH CHECK (tenant_id = app_current_tenant() AND (private_to IS NULL OR private_to = app_current_user()));

-- A document's active version changed: the old version's postings go, the new one's come. Terms
-- and tf are read from the chunk's tsv (a lexeme keeps at most 256 positions there, so tf
-- saturates at 256, long after BM25's tf term has flattened out).
CREATE FUNCTION app_lexical_activate() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.active_version IS NOT NULL THEN
    DELETE FROM public.lexical_postings p
    USING public.chunks c
    WHERE c.document_id = OLD.id AND c.version = OLD.active_version AND p.chunk_id = c.id;
  END IF;
  IF NEW.active_version IS NOT NULL THEN
    INSERT INTO public.lexical_postings (tenant_id, ts_config, term, chunk_id, tf, length, private_to)
    SELECT c.tenant_id, c.ts_config, t.lexeme, c.id, cardinality(t.positions), l.length,
           CASE c.visibility WHEN 'private' THEN c.owner_user_id END
    FROM public.chunks c
    CROSS JOIN LATERAL (SELECT sum(cardinality(u.positions))::int AS length FROM unnest(c.tsv) AS u) AS l
    CROSS JOIN LATERAL unnest(c.tsv) AS t
    WHERE c.document_id = NEW.id AND c.version = NEW.active_version;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER documents_lexical_activate_insert
  AFTER INSERT ON documents
  FOR EACH ROW WHEN (NEW.active_version IS NOT NULL)
  EXECUTE FUNCTION app_lexical_activate();
CREATE TRIGGER documents_lexical_activate_update
  AFTER UPDATE OF active_version ON documents
  FOR EACH ROW WHEN (OLD.active_version IS DISTINCT FROM NEW.active_version)
  EXECUTE FUNCTION app_lexical_activate();

-- The statistics follow the postings (chunks and their lengths added or removed, per scope),
-- whichever statement changed them: an activation, or a cascade from deleted chunks.
-- Statement-level with transition tables, so a statement updates each scope once.
CREATE FUNCTION app_lexical_count() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO public.lexical_stats AS s (tenant_id, private_to, chunk_count, total_length)
    SELECT tenant_id, scope, count(*), sum(length)
    FROM (SELECT DISTINCT tenant_id, private_to AS scope, chunk_id, length
          FROM changed) AS added
    GROUP BY tenant_id, scope
    ON CONFLICT (tenant_id, private_to) DO UPDATE
      SET chunk_count = s.chunk_count + excluded.chunk_count, total_length = s.total_length + excluded.total_length;
  ELSE
    UPDATE public.lexical_stats AS s
    SET chunk_count = s.chunk_count - removed.chunks, total_length = s.total_length - removed.length
    FROM (SELECT tenant_id, scope, count(*) AS chunks, sum(length) AS length
          FROM (SELECT DISTINCT tenant_id, private_to AS scope, chunk_id, length
                FROM changed) AS chunks
          GROUP BY tenant_id, scope) AS removed
    WHERE s.tenant_id = removed.tenant_id AND s.private_to IS NOT DISTINCT FROM removed.scope;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER lexical_postings_count_insert
  AFTER INSERT ON lexical_postings REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app_lexical_count();
CREATE TRIGGER lexical_postings_count_delete
  AFTER DELETE ON lexical_postings REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app_lexical_count();

REVOKE EXECUTE ON FUNCTION app_lexical_activate(), app_lexical_count() FROM PUBLIC;

-- The GIN index on tsv cannot be used behind the policy (`@@` is not LEAKPROOF), and the
-- lexical leg no longer scans for matches: it reads postings. `tsv` stays, for the phrase and
-- exclusion checks on a query's candidates.
DROP INDEX chunks_tsv_idx;

-- Postings for what search serves today. The owner is held to the policies like everyone (FORCE),
-- and a migration has no tenant context, so FORCE is lifted for this transaction's backfill alone.
ALTER TABLE documents NO FORCE ROW LEVEL SECURITY;
ALTER TABLE chunks NO FORCE ROW LEVEL SECURITY;
ALTER TABLE lexical_postings NO FORCE ROW LEVEL SECURITY;
ALTER TABLE lexical_stats NO FORCE ROW LEVEL SECURITY;
INSERT INTO lexical_postings (tenant_id, ts_config, term, chunk_id, tf, length, private_to)
SELECT c.tenant_id, c.ts_config, t.lexeme, c.id, cardinality(t.positions), l.length,
       CASE c.visibility WHEN 'private' THEN c.owner_user_id END
FROM chunks c
JOIN documents d ON d.id = c.document_id AND d.active_version = c.version
CROSS JOIN LATERAL (SELECT sum(cardinality(u.positions))::int AS length FROM unnest(c.tsv) AS u) AS l
CROSS JOIN LATERAL unnest(c.tsv) AS t;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
ALTER TABLE chunks FORCE ROW LEVEL SECURITY;
ALTER TABLE lexical_postings FORCE ROW LEVEL SECURITY;
ALTER TABLE lexical_stats FORCE ROW LEVEL SECURITY;
