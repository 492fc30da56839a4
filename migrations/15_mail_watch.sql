-- Gmail push, Quarry's side of the watch (issue 11): with MAIL_PUSH_TOPIC set, the mailbox
-- workflow asks Gmail to publish the mailbox's changes on that topic (users.watch) and renews the
-- watch daily; the account keeps when the watch Gmail last granted ends (NULL: none that Quarry
-- knows of). The column is the account's like the rest of its row, under mail_accounts_own.
ALTER TABLE mail_accounts ADD COLUMN watch_expires_at timestamptz;
