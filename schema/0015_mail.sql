-- Mail: the outbox timepool-web's sender delivers from, verified e-mail addresses, single-use
-- tokens for verification and password reset, notices to volunteers and vendors with their
-- preferences, and the audit log's before and after (append-only from now on).

-- One row per message. The sender (web/mail_sender.hpp) claims due rows with
-- FOR UPDATE SKIP LOCKED, one per transaction, and sets sent_at only after the relay accepted
-- the message, in that same transaction: two senders never send one message twice, and a
-- message whose delivery failed stays here and is tried again after next_attempt_at.
CREATE TABLE mail_outbox (
  id              bigserial PRIMARY KEY,
  created_at      timestamptz NOT NULL DEFAULT now(),
  account_id      bigint REFERENCES accounts (id) ON DELETE SET NULL,
  recipient       text NOT NULL
                  CHECK (recipient ~ '^[^@\s<>,;]+@[^@\s<>,;]+$' AND length(recipient) <= 254),
  -- verify, reset, or a notice kind (notice_kinds below).
  kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z-]{0,39}$'),
  subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
  body            text NOT NULL CHECK (length(body) <= 100000),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text CHECK (length(last_error) <= 2000),
  sent_at         timestamptz,
  -- The relay refused the message for good (a 5xx reply): kept, never retried.
  failed_at       timestamptz,
  CHECK (sent_at IS NULL OR failed_at IS NULL)
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at)
  WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_account_idx ON mail_outbox (account_id, created_at);

-- Accounts made before this migration count as verified; new ones are verified by a link.
ALTER TABLE accounts ADD COLUMN email_verified_at timestamptz;
UPDATE accounts SET email_verified_at = created_at;

-- Tokens sent by mail: only their SHA-256 is kept. Each is used once (used_at), expires, and a
-- newer one of the same purpose replaces the older (the web deletes unused ones it supersedes).
CREATE TABLE account_tokens (
  token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('verify', 'reset')),
  -- The address the link went to: a verification is for that address only.
  email      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX account_tokens_account_idx ON account_tokens (account_id, purpose, created_at);

-- Notices an account has turned off (the account page); every kind is on by default.
--   server-left-dns     a server of theirs left DNS, with what the monitors saw
--   server-admin        an admin disabled one of their servers or changed it
--   server-deleted      a scheduled deletion of one of their servers happened
--   vendor-decision     their zone request was approved or rejected
--   vendor-burst        a synchronized burst was found in their zone
ALTER TABLE accounts ADD COLUMN notices_off text[] NOT NULL DEFAULT '{}'
  CHECK (notices_off <@ ARRAY['server-left-dns', 'server-admin', 'server-deleted',
                              'vendor-decision', 'vendor-burst']);

-- At most one notice of a kind a day about one server or zone: the newest per
-- (account, kind, subject). subject is 'server:<id>' or 'zone:<id>'.
CREATE TABLE notices_sent (
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind       text NOT NULL,
  subject    text NOT NULL CHECK (length(subject) BETWEEN 1 AND 100),
  last_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, kind, subject)
);

-- What the notice scan saw last: whether each server was in DNS, and the newest burst finding
-- of each zone it has told the vendor about. A server that was in DNS and no longer is has
-- left it; a server whose deleted_at is set since has been deleted.
CREATE TABLE notice_server_state (
  server_id  bigint PRIMARY KEY REFERENCES servers (id) ON DELETE CASCADE,
  in_dns     boolean NOT NULL,
  deleted    boolean NOT NULL DEFAULT false,
  changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE notice_zone_state (
  zone_id       integer PRIMARY KEY REFERENCES zones (id) ON DELETE CASCADE,
  newest_finding timestamptz NOT NULL
);

-- The audit log keeps what a change replaced and what it made (JSON objects of the fields
-- that matter; NULL where there was nothing before or after), and is append-only: rows are
-- never changed or removed, not even by the programs that write them.
ALTER TABLE audit_log ADD COLUMN before jsonb, ADD COLUMN after jsonb;
CREATE INDEX audit_log_action_idx ON audit_log (action, at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

GRANT SELECT, INSERT, UPDATE, DELETE ON mail_outbox, account_tokens, notices_sent,
  notice_server_state, notice_zone_state TO timepool_web;
GRANT SELECT, INSERT ON audit_log TO timepool_web;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO timepool_web;
