-- Accounts of volunteers, vendors and admins, their web sessions and login attempts.

CREATE TABLE accounts (
  id            bigserial PRIMARY KEY,
  email         text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
  password_hash text NOT NULL,                 -- Argon2id string (libsodium crypto_pwhash_str)
  role          text NOT NULL DEFAULT 'volunteer' CHECK (role IN ('volunteer', 'vendor', 'admin')),
  display_name  text CHECK (length(display_name) <= 200),
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz                      -- set: may not log in, servers leave DNS
);
-- Email addresses are unique regardless of case.
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

-- A session is found by the SHA-256 of its cookie token; the token itself is never stored.
CREATE TABLE sessions (
  token_hash  text PRIMARY KEY,
  account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  csrf_token  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  remote_addr inet
);
CREATE INDEX sessions_account_idx ON sessions (account_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Every login attempt, for rate limiting per account and per address.
CREATE TABLE login_attempts (
  id          bigserial PRIMARY KEY,
  email       text NOT NULL,
  remote_addr inet,
  at          timestamptz NOT NULL DEFAULT now(),
  success     boolean NOT NULL
);
CREATE INDEX login_attempts_email_idx ON login_attempts (lower(email), at);
CREATE INDEX login_attempts_addr_idx ON login_attempts (remote_addr, at);
