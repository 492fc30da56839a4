-- Gmail push notifications (issue 11): Google's Pub/Sub pushes `{emailAddress, historyId}` to
-- POST /v1/mail/push with an OIDC token of the push subscription's service account and no Quarry
-- credentials, so no tenant or user is known when it arrives. Once the API has verified the token,
-- this narrow definer function answers which connected accounts have that address (in any tenant,
-- of any user: each has its own account for it) and the history id each has synced to, and
-- nothing else of them: no status reason, no counts, no mail. Nothing here writes.
CREATE POLICY mail_accounts_definer_read ON mail_accounts FOR SELECT TO CURRENT_USER
  USING (app_definer_scope());

CREATE INDEX mail_accounts_address_idx ON mail_accounts (address) WHERE address IS NOT NULL;

CREATE FUNCTION mail_push_accounts(p_address text)
  RETURNS TABLE (tenant_id uuid, user_id uuid, account_id uuid, history_id text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT a.tenant_id, a.user_id, a.id, a.history_id
    FROM public.mail_accounts a
    WHERE a.address = lower(p_address) AND a.connected_at IS NOT NULL AND a.status <> 'disconnected'
    ORDER BY a.id
    LIMIT 100
  $$;
REVOKE ALL ON FUNCTION mail_push_accounts(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mail_push_accounts(text) TO quarry_app;
