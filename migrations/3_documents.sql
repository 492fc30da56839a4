-- Documents, their versions and chunks with embeddings, and the embedding models in use.
-- Tenant-shared content is visible across the tenant; a document with visibility 'private'
-- (and its chunks) is visible only to its owner within the tenant.

CREATE TABLE embedding_models (
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  model         text NOT NULL,          -- the embedder's model name, as chunks.embedding_model records it
  dimensions    integer NOT NULL CHECK (dimensions BETWEEN 1 AND 16000),
  first_used_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, model, dimensions)
);

CREATE TABLE documents (
  id              uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  owner_user_id   uuid NOT NULL,        -- the uploader; no foreign key: a gone account must not block deletes
  visibility      text NOT NULL DEFAULT 'tenant' CHECK (visibility IN ('tenant', 'private')),
  title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  description     text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
  tags            text[] NOT NULL DEFAULT '{}',
  source          text NOT NULL DEFAULT 'upload' CHECK (source IN ('upload', 'text', 'gmail')),
  filename        text,
  mime_type       text,
  byte_size       bigint NOT NULL CHECK (byte_size >= 0),
  content_sha256  text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
  blob_key        text NOT NULL,
  status          text NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
  error           text,
  active_version  integer,              -- the version search serves; NULL until the first completes
  latest_version  integer NOT NULL DEFAULT 1,
  chunk_count     integer NOT NULL DEFAULT 0,
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_tenant_created_idx ON documents (tenant_id, created_at DESC, id DESC);
-- Re-uploading identical content in the same scope returns the existing document.
CREATE UNIQUE INDEX documents_tenant_content_key ON documents (tenant_id, content_sha256)
  WHERE visibility = 'tenant';
CREATE UNIQUE INDEX documents_private_content_key ON documents (tenant_id, owner_user_id, content_sha256)
  WHERE visibility = 'private';
CREATE INDEX documents_tags_idx ON documents USING gin (tags);

CREATE TABLE chunks (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  document_id     uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  version         integer NOT NULL,
  ordinal         integer NOT NULL CHECK (ordinal >= 0),
  -- Denormalised from the document, so that the policy needs no join on the hot path.
  visibility      text NOT NULL CHECK (visibility IN ('tenant', 'private')),
  owner_user_id   uuid NOT NULL,
  content         text NOT NULL,
  start_offset    integer NOT NULL,
  end_offset      integer NOT NULL,
  page            integer,
  heading         text,
  embedding_model text,
  embedding       vector,               -- dimension recorded beside it; indexed per dimension below
  embedding_dims  integer,
  tsv             tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (document_id, version, ordinal),
  CHECK (embedding IS NULL OR vector_dims(embedding) = embedding_dims)
);
CREATE INDEX chunks_tenant_idx ON chunks (tenant_id, document_id, version);
-- The chunks of a version still waiting for their embedding (the ingestion's embed step).
CREATE INDEX chunks_unembedded_idx ON chunks (document_id, version, ordinal) WHERE embedding IS NULL;
CREATE INDEX chunks_tsv_idx ON chunks USING gin (tsv);
-- HNSW (cosine) for the default local embedder and the common OpenAI dimensions.
-- Queries must use the same expression: (embedding::vector(N)) with embedding_dims = N.
CREATE INDEX chunks_embedding_384_idx ON chunks USING hnsw ((embedding::vector(384)) vector_cosine_ops)
  WHERE embedding_dims = 384;
CREATE INDEX chunks_embedding_1536_idx ON chunks USING hnsw ((embedding::vector(1536)) vector_cosine_ops)
  WHERE embedding_dims = 1536;

-- A document's ingestion runs are jobs with kind 'ingestion' and the document id as subject.
CREATE INDEX jobs_subject_idx ON jobs (tenant_id, kind, subject, created_at DESC);

ALTER TABLE embedding_models ENABLE ROW LEVEL SECURITY;
ALTER TABLE embedding_models FORCE ROW LEVEL SECURITY;
CREATE POLICY embedding_models_current_tenant ON embedding_models
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
CREATE POLICY documents_visible ON documents
  USING (tenant_id = app_current_tenant() AND (visibility = 'tenant' OR owner_user_id = app_current_user()))
  WITH CHECK (tenant_id = app_current_tenant() AND (visibility = 'tenant' OR owner_user_id = app_current_user()));

ALTER TABLE chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE chunks FORCE ROW LEVEL SECURITY;
-- A chunk is written only for a document the context can see, and carries that document's
-- tenant, visibility and owner: no chunk of one tenant can hang off another's document, and
-- no chunk of a private document can be marked tenant-wide.
CREATE POLICY chunks_visible ON chunks
  USING (tenant_id = app_current_tenant() AND (visibility = 'tenant' OR owner_user_id = app_current_user()))
  WITH CHECK (
    tenant_id = app_current_tenant()
    AND (visibility = 'tenant' OR owner_user_id = app_current_user())
    AND EXISTS (
      SELECT 1 FROM documents d
      WHERE d.id = chunks.document_id AND d.tenant_id = chunks.tenant_id
        AND d.visibility = chunks.visibility AND d.owner_user_id = chunks.owner_user_id
    )
  );
