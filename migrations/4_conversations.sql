-- Conversations and their messages, and the query log that /v1/stats counts.
-- A conversation belongs to one user in one tenant and is private to that user: fellow
-- members and tenant admins do not see it (it holds the user's questions). The query log is
-- the tenant's: stats count every member's queries. A row says who asked, never what.

CREATE TABLE conversations (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  message_count     integer NOT NULL DEFAULT 0,
  -- Totals over the assistant's messages, and the model of the latest one.
  prompt_tokens     bigint NOT NULL DEFAULT 0,
  completion_tokens bigint NOT NULL DEFAULT 0,
  last_model        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, tenant_id, user_id)
);
CREATE INDEX conversations_owner_created_idx ON conversations (tenant_id, user_id, created_at DESC, id DESC);

CREATE TABLE messages (
  id                uuid PRIMARY KEY,
  conversation_id   uuid NOT NULL,
  tenant_id         uuid NOT NULL,
  user_id           uuid NOT NULL,
  -- 1, 2, 3… within the conversation; turns are appended under a lock on the conversation row.
  seq               integer NOT NULL CHECK (seq > 0),
  parent_id         uuid,
  role              text NOT NULL CHECK (role IN ('user', 'assistant')),
  content           text NOT NULL CHECK (length(content) BETWEEN 1 AND 100000),
  -- Assistant messages: the chunks given as context (each with its [n]), the citations the
  -- answer makes, and the model with its token usage.
  context           jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(context) = 'array'),
  citations         jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(citations) = 'array'),
  model             text,
  extractive        boolean,
  prompt_tokens     integer CHECK (prompt_tokens >= 0),
  completion_tokens integer CHECK (completion_tokens >= 0),
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (conversation_id, seq),
  UNIQUE (id, conversation_id),
  -- A message carries its conversation's tenant and user, and its parent is in the same conversation.
  FOREIGN KEY (conversation_id, tenant_id, user_id)
    REFERENCES conversations (id, tenant_id, user_id) ON DELETE CASCADE,
  FOREIGN KEY (parent_id, conversation_id) REFERENCES messages (id, conversation_id) ON DELETE CASCADE
);

CREATE TABLE query_log (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id      uuid,                    -- NULL when an API key asked; no foreign key, so counts outlive accounts
  api_key_id   uuid,
  kind         text NOT NULL CHECK (kind IN ('search', 'ask')),
  mode         text NOT NULL CHECK (mode IN ('dense', 'lexical', 'hybrid')),
  result_count integer NOT NULL CHECK (result_count >= 0),
  duration_ms  integer NOT NULL CHECK (duration_ms >= 0),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX query_log_tenant_created_idx ON query_log (tenant_id, created_at);

ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY conversations_own ON conversations
  USING (tenant_id = app_current_tenant() AND user_id = app_current_user())
  WITH CHECK (tenant_id = app_current_tenant() AND user_id = app_current_user());

ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY messages_own ON messages
  USING (tenant_id = app_current_tenant() AND user_id = app_current_user())
  WITH CHECK (tenant_id = app_current_tenant() AND user_id = app_current_user());

-- Every member's queries count for the tenant; a row is written only as its own asker (the
-- user of the context, or no user for an API key).
ALTER TABLE query_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE query_log FORCE ROW LEVEL SECURITY;
CREATE POLICY query_log_tenant ON query_log
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant() AND user_id IS NOT DISTINCT FROM app_current_user());
