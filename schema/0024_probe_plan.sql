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
GRANT UPDATE (clock_ok, clock_reason, clock_reported_at) ON monitors TO timepool_monitor;

-- The monitor API's shift check may only move an active monitor back to testing, with its
-- reason; it never makes a monitor active (an admin does, with timepoolctl).
CREATE FUNCTION demote_monitor(monitor integer, reason text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH u AS (
    UPDATE monitors SET status = 'testing', demoted_reason = left(reason, 300), demoted_at = now()
    WHERE id = monitor AND status = 'active'
    RETURNING 1
  )
  SELECT count(*) > 0 FROM u
$$;
REVOKE EXECUTE ON FUNCTION demote_monitor(integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION demote_monitor(integer, text) TO timepool_monitor;
