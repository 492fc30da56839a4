-- Gmail connections (issue 11, the connection layer): a user's mail accounts, the OAuth grant
-- of each, and the OAuth sessions of the authorization-code flow. Mail is its user's alone:
-- every row here is visible only under the context of its tenant AND its user, so a tenant's
-- owners and admins, its API keys and its workers without the user see nothing of it.
-- Tokens and code verifiers are stored only as AES-256-GCM ciphertexts (mail/token-cipher.ts)
-- with the id of the key that sealed them beside each; the OAuth state only as its SHA-256.

CREATE TABLE mail_accounts (
  id              uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider        text NOT NULL DEFAULT 'gmail' CHECK (provider IN ('gmail')),
  -- The mailbox address, as Gmail's users.getProfile gives it; NULL until first connected.
  address         text CHECK (address IS NULL OR (address = lower(address) AND length(address) BETWEEN 3 AND 320)),
  status          text NOT NULL
                  CHECK (status IN ('connecting', 'syncing', 'idle', 'needs_reauth', 'error', 'disconnected')),
  status_reason   text CHECK (length(status_reason) <= 2000),
  -- Gmail's historyId (an unsigned 64-bit number, kept as its decimal string) where the next
  -- incremental sync starts; NULL before the first full sync.
  history_id      text CHECK (history_id ~ '^[0-9]{1,20}$'),
  last_synced_at  timestamptz,
  connected_at    timestamptz,
  message_count   integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
  attachment_count integer NOT NULL DEFAULT 0 CHECK (attachment_count >= 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, tenant_id, user_id)
);
CREATE INDEX mail_accounts_owner_created_idx ON mail_accounts (tenant_id, user_id, created_at DESC, id DESC);
-- One account per mailbox and user in a tenant: connecting the same address again reuses it.
CREATE UNIQUE INDEX mail_accounts_address_key ON mail_accounts (tenant_id, user_id, address)
  WHERE address IS NOT NULL;

CREATE TABLE mail_grants (
  account_id               uuid PRIMARY KEY,
  tenant_id                uuid NOT NULL,
  user_id                  uuid NOT NULL,
  key_id                   text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
  refresh_token_ciphertext bytea NOT NULL,
  access_token_ciphertext  bytea,
  access_token_expires_at  timestamptz,
  scopes                   text[] NOT NULL,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  CHECK ((access_token_ciphertext IS NULL) = (access_token_expires_at IS NULL)),
  FOREIGN KEY (account_id, tenant_id, user_id)
    REFERENCES mail_accounts (id, tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX mail_grants_key_idx ON mail_grants (key_id);

-- One authorization attempt: single use (used_at), short-lived (expires_at). The code verifier
-- is dropped when the session is used, so only live sessions hold one.
CREATE TABLE mail_oauth_sessions (
  id                          uuid PRIMARY KEY,
  tenant_id                   uuid NOT NULL,
  user_id                     uuid NOT NULL,
  account_id                  uuid NOT NULL,
  state_hash                  text NOT NULL UNIQUE CHECK (state_hash ~ '^[0-9a-f]{64}$'),
  key_id                      text CHECK (key_id ~ '^[0-9a-f]{16}$'),
  code_verifier_ciphertext    bytea,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  expires_at                  timestamptz NOT NULL,
  used_at                     timestamptz,
  CHECK ((key_id IS NULL) = (code_verifier_ciphertext IS NULL)),
  CHECK (used_at IS NOT NULL OR code_verifier_ciphertext IS NOT NULL),
  FOREIGN KEY (account_id, tenant_id, user_id)
    REFERENCES mail_accounts (id, tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX mail_oauth_sessions_account_idx ON mail_oauth_sessions (account_id);
CREATE INDEX mail_oauth_sessions_key_idx ON mail_oauth_sessions (key_id) WHERE key_id IS NOT NULL;

ALTER TABLE mail_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY mail_accounts_own ON mail_accounts
  USING (tenant_id = app_current_tenant() AND user_id = app_current_user())
  WITH CHECK (tenant_id = app_current_tenant() AND user_id = app_current_user());

ALTER TABLE mail_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY mail_grants_own ON mail_grants
  USING (tenant_id = app_current_tenant() AND user_id = app_current_user())
  WITH CHECK (tenant_id = app_current_tenant() AND user_id = app_current_user());

ALTER TABLE mail_oauth_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_oauth_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY mail_oauth_sessions_own ON mail_oauth_sessions
  USING (tenant_id = app_current_tenant() AND user_id = app_current_user())
  WITH CHECK (tenant_id = app_current_tenant() AND user_id = app_current_user());

-- The OAuth callback arrives from Google's redirect, in a browser that carries no Quarry
-- credentials: only the state says whose attempt it is. This narrow definer function takes the
-- SHA-256 of a state and, when it names a live session, marks it used and hands back its
-- tenant, user, account and sealed code verifier (dropping the verifier from the row), all in
-- one statement under a row lock, so two callbacks with one state cannot both succeed. A state
-- that is unknown, used or expired changes nothing and says only which of the three it was.
CREATE POLICY mail_oauth_sessions_definer_read ON mail_oauth_sessions FOR SELECT TO CURRENT_USER
  USING (app_definer_scope());
CREATE POLICY mail_oauth_sessions_definer_claim ON mail_oauth_sessions FOR UPDATE TO CURRENT_USER
  USING (app_definer_scope()) WITH CHECK (app_definer_scope());

CREATE FUNCTION mail_oauth_claim_session(p_state_hash text)
  RETURNS TABLE (
    outcome text, session_id uuid, tenant_id uuid, user_id uuid, account_id uuid,
    key_id text, code_verifier_ciphertext bytea
  )
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
  DECLARE
    session_row public.mail_oauth_sessions%ROWTYPE;
  BEGIN
    SELECT * INTO session_row FROM public.mail_oauth_sessions s WHERE s.state_hash = p_state_hash FOR UPDATE;
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'unknown'::text, NULL::uuid, NULL::uuid, NULL::uuid, NULL::uuid, NULL::text, NULL::bytea;
    ELSIF session_row.used_at IS NOT NULL THEN
      RETURN QUERY SELECT 'used'::text, NULL::uuid, NULL::uuid, NULL::uuid, NULL::uuid, NULL::text, NULL::bytea;
    ELSIF session_row.expires_at <= now() THEN
      RETURN QUERY SELECT 'expired'::text, NULL::uuid, NULL::uuid, NULL::uuid, NULL::uuid, NULL::text, NULL::bytea;
    ELSE
      UPDATE public.mail_oauth_sessions s
        SET used_at = now(), key_id = NULL, code_verifier_ciphertext = NULL
        WHERE s.id = session_row.id;
      RETURN QUERY SELECT 'claimed'::text, session_row.id, session_row.tenant_id, session_row.user_id, session_row.account_id,
                          session_row.key_id, session_row.code_verifier_ciphertext;
    END IF;
  END
  $$;
GRANT EXECUTE ON FUNCTION mail_oauth_claim_session(text) TO quarry_app;
