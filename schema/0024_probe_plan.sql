-- Probe etiquette and monitors that check themselves.
--
-- A volunteer who fixed a server asks for a re-check from its page: the request is recorded
-- (for the rate limits per server and per account) and servers.recheck_requested_at makes the
-- server due at once in the monitor API's probe plan (monitor/probe_plan.hpp).
ALTER TABLE servers ADD COLUMN recheck_requested_at timestamptz;

CREATE TABLE server_rechecks (
  id           bigserial PRIMARY KEY,
  server_id    bigint NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX server_rechecks_server_idx ON server_rechecks (server_id, requested_at);
CREATE INDEX server_rechecks_account_idx ON server_rechecks (account_id, requested_at);

-- What a monitor says of its own clock (its reference servers' median offset, the kernel's
-- state) with each batch, and why the central side last moved it back to testing (its offsets
-- systematically shifted from the other monitors' for the same servers). Admins see both.
ALTER TABLE monitors
  ADD COLUMN clock_ok          boolean,
  ADD COLUMN clock_reason      text,
  ADD COLUMN clock_reported_at timestamptz,
  ADD COLUMN demoted_reason    text,
  ADD COLUMN demoted_at        timestamptz;

GRANT SELECT, INSERT, DELETE ON server_rechecks TO timepool_web;
GRANT UPDATE (recheck_requested_at) ON servers TO timepool_web;
GRANT SELECT (score, recheck_requested_at) ON servers TO timepool_monitor;
GRANT UPDATE (status, clock_ok, clock_reason, clock_reported_at, demoted_reason, demoted_at)
  ON monitors TO timepool_monitor;
