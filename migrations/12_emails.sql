-- Synced mail (issue 11, the mailbox workflow): one row per Gmail message of an account, and one
-- per attachment of a message. Like the account they came from, they are their user's alone: every
-- row is visible only under the context of its tenant AND its user, so the tenant's owners and
-- admins, its API keys and its workers without the user see nothing of them.
--
-- Each email is made searchable as a private document (source 'gmail') of its user, with its
-- chunks and embeddings; `document_id` links the two. An email's document goes with the email
-- (the trigger below), whichever way the email goes: deleted at Gmail, or its account removed.

CREATE TABLE emails (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL,
  user_id           uuid NOT NULL,
  account_id        uuid NOT NULL,
  -- Gmail's message and thread ids (lower-case hex today; Gmail documents them as opaque strings).
  gmail_message_id  text NOT NULL CHECK (gmail_message_id ~ '^[A-Za-z0-9_-]{1,128}$'),
  gmail_thread_id   text NOT NULL CHECK (gmail_thread_id ~ '^[A-Za-z0-9_-]{1,128}$'),
  -- The RFC 822 Message-ID header, when there is one.
  message_id_header text CHECK (length(message_id_header) <= 2000),
  subject           text NOT NULL DEFAULT '' CHECK (length(subject) <= 10000),
  sender            text CHECK (length(sender) <= 10000),
  to_addresses      text[] NOT NULL DEFAULT '{}',
  cc_addresses      text[] NOT NULL DEFAULT '{}',
  bcc_addresses     text[] NOT NULL DEFAULT '{}',
  text_body         text,
  html_body         text,
  labels            text[] NOT NULL DEFAULT '{}',
  is_read           boolean NOT NULL,
  is_important      boolean NOT NULL,
  has_attachments   boolean NOT NULL,
  -- The Date header (NULL when absent or unreadable) and Gmail's internalDate.
  sent_at           timestamptz,
  received_at       timestamptz,
  byte_size         integer NOT NULL CHECK (byte_size >= 0),
  document_id       uuid REFERENCES documents (id) ON DELETE SET NULL,
  -- When a sync last found the message at Gmail: a full sync removes what it did not find.
  last_seen_at      timestamptz NOT NULL DEFAULT now(),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, gmail_message_id),
  UNIQUE (id, tenant_id, user_id),
  FOREIGN KEY (account_id, tenant_id, user_id)
    REFERENCES mail_accounts (id, tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX emails_owner_sent_idx ON emails (tenant_id, user_id, sent_at DESC, id DESC);
CREATE INDEX emails_thread_idx ON emails (account_id, gmail_thread_id);
CREATE INDEX emails_document_idx ON emails (document_id) WHERE document_id IS NOT NULL;
CREATE INDEX emails_labels_idx ON emails USING gin (labels);

-- The attachments of an email, as its MIME parts name them: those in a format Quarry ingests are
-- read into the email's document (located as "attachment NAME of mail SUBJECT"); the others are
-- recorded with the reason they were skipped.
CREATE TABLE email_attachments (
  id                  uuid PRIMARY KEY,
  tenant_id           uuid NOT NULL,
  user_id             uuid NOT NULL,
  email_id            uuid NOT NULL,
  -- The attachment's place among the message's attachments, from 0.
  ordinal             integer NOT NULL CHECK (ordinal >= 0),
  filename            text CHECK (length(filename) <= 1000),
  mime_type           text CHECK (length(mime_type) <= 255),
  byte_size           integer NOT NULL CHECK (byte_size >= 0),
  -- The format it was read as (pdf, docx…), or NULL when skipped.
  format              text,
  status              text NOT NULL CHECK (status IN ('indexed', 'skipped')),
  skip_reason         text CHECK (length(skip_reason) <= 2000),
  created_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (email_id, ordinal),
  CHECK ((status = 'skipped') = (skip_reason IS NOT NULL)),
  CHECK ((status = 'indexed') = (format IS NOT NULL)),
  FOREIGN KEY (email_id, tenant_id, user_id) REFERENCES emails (id, tenant_id, user_id) ON DELETE CASCADE
);

ALTER TABLE emails ENABLE ROW LEVEL SECURITY;
ALTER TABLE emails FORCE ROW LEVEL SECURITY;
CREATE POLICY emails_own ON emails
  USING (tenant_id = app_current_tenant() AND user_id = app_current_user())
  WITH CHECK (tenant_id = app_current_tenant() AND user_id = app_current_user());

ALTER TABLE email_attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_attachments FORCE ROW LEVEL SECURITY;
CREATE POLICY email_attachments_own ON email_attachments
  USING (tenant_id = app_current_tenant() AND user_id = app_current_user())
  WITH CHECK (tenant_id = app_current_tenant() AND user_id = app_current_user());

-- An email's document is its user's private document, of source 'gmail', in the same tenant:
-- an email can never make another user's document (or a shared one) its own, and so delete it.
-- AFTER, so that a context that may not write the row meets the policy first.
CREATE FUNCTION app_email_document_check() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF NEW.document_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM public.documents d
    WHERE d.id = NEW.document_id AND d.tenant_id = NEW.tenant_id AND d.owner_user_id = NEW.user_id
      AND d.visibility = 'private' AND d.source = 'gmail'
  ) THEN
    RAISE EXCEPTION 'email % may only link a private gmail document of its own user', NEW.id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER emails_document_check
  AFTER INSERT OR UPDATE OF document_id, tenant_id, user_id ON emails
  FOR EACH ROW EXECUTE FUNCTION app_email_document_check();

-- The email's document goes with it (its chunks and postings by their cascades). Runs as the
-- caller, under the caller's policies: it deletes only what the caller could delete itself.
CREATE FUNCTION app_email_document_delete() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  DELETE FROM public.documents d USING old_emails o
  WHERE d.id = o.document_id AND d.source = 'gmail';
  RETURN NULL;
END
$$;
CREATE TRIGGER emails_document_delete
  AFTER DELETE ON emails
  REFERENCING OLD TABLE AS old_emails
  FOR EACH STATEMENT EXECUTE FUNCTION app_email_document_delete();
