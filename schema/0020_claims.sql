-- Trust in what volunteers claim. Anyone can register any address at any netspeed; these rules
-- keep a false or careless claim from hurting the address's real owner:
--  * a server a volunteer adds has its netspeed capped for a trial period (default 1.5 Mbit/s
--    for 14 days) unless an admin trusts it earlier; what the volunteer asked for is kept and
--    applied when the trial ends (end_netspeed_trials(), run by the web's periodic upkeep).
--    The web starts the trial (INSERT ... trial_until = new_server_trial_end()); servers an
--    operator adds with timepoolctl are an admin's decision and start without one;
--  * an account has at most max_servers_per_account servers (an admin may set a per-account
--    limit in accounts.max_servers);
--  * anyone can report "this address is mine": the server is held out of DNS at once (still
--    monitored), and an admin dismisses the report (the hold ends) or disables the server;
--  * an address an admin disabled stays disabled when it is added again, also after the old
--    row was deleted or purged (blocked_addresses), until an admin enables it.
-- The rules are enforced here, in triggers, so the web site and timepoolctl obey them alike.

CREATE TABLE claim_settings (
  single                  boolean PRIMARY KEY DEFAULT true CHECK (single),
  -- The highest netspeed (kbit/s) a server has during its trial; one of the allowed values.
  new_server_netspeed_cap integer NOT NULL DEFAULT 1500 CHECK (new_server_netspeed_cap IN (
                            512, 1500, 3000, 6000, 12000, 25000, 50000, 100000, 250000, 500000,
                            1000000, 1500000, 2000000, 3000000)),
  -- How long a new server's trial lasts (0: no trial, no cap).
  new_server_trial        interval NOT NULL DEFAULT '14 days'
                          CHECK (new_server_trial >= interval '0'),
  -- Servers (not deleted) per account; 0: no limit.
  max_servers_per_account integer NOT NULL DEFAULT 20 CHECK (max_servers_per_account >= 0),
  -- Address reports one client address (IPv4 /24, IPv6 /48) may file per day.
  reports_per_day         integer NOT NULL DEFAULT 5 CHECK (reports_per_day >= 0)
);
INSERT INTO claim_settings DEFAULT VALUES;

ALTER TABLE accounts ADD COLUMN max_servers integer CHECK (max_servers >= 0);

ALTER TABLE servers
  -- Until this time the netspeed is capped (claim_settings); NULL: no trial (ended or trusted).
  ADD COLUMN trial_until      timestamptz,
  -- What the volunteer asked for while the cap held it lower; applied when the trial ends.
  ADD COLUMN netspeed_claimed integer,
  -- Set when someone reported the address as theirs: out of DNS (still monitored) until an
  -- admin decides.
  ADD COLUMN held_at          timestamptz;

CREATE OR REPLACE FUNCTION server_in_dns(s servers) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT s.score >= 10 AND s.netspeed > 0 AND s.deletion_on IS NULL AND s.deleted_at IS NULL
         AND s.disabled_at IS NULL AND s.stale_since IS NULL AND s.held_at IS NULL
$$;

-- Addresses an admin disabled. Kept apart from the servers' rows so that deleting or purging a
-- server does not lift the block.
CREATE TABLE blocked_addresses (
  address    inet PRIMARY KEY,
  blocked_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE address_reports (
  id               bigserial PRIMARY KEY,
  address          inet NOT NULL
                   CHECK (masklen(address) = CASE family(address) WHEN 4 THEN 32 ELSE 128 END),
  -- The server the report held (NULL: the address was not in the pool).
  server_id        bigint REFERENCES servers (id) ON DELETE SET NULL,
  contact          text NOT NULL CHECK (length(contact) BETWEEN 3 AND 254),
  message          text NOT NULL DEFAULT '' CHECK (length(message) <= 2000),
  reporter_address inet NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  decided_at       timestamptz,
  decided_by       text CHECK (length(decided_by) <= 300),
  decision         text CHECK (decision IN ('dismissed', 'disabled')),
  CHECK ((decided_at IS NULL) = (decision IS NULL))
);
CREATE INDEX address_reports_open_idx ON address_reports (created_at) WHERE decided_at IS NULL;
CREATE INDEX address_reports_reporter_idx ON address_reports (reporter_address, created_at);

-- When a trial that starts now ends (now() when trials are off).
CREATE FUNCTION new_server_trial_end() RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT now() + new_server_trial FROM claim_settings
$$;

-- Before a server row is written: the block, the per-account limit and the trial cap.
CREATE FUNCTION servers_claims() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  st claim_settings;
  lim integer;
  n integer;
BEGIN
  SELECT * INTO st FROM claim_settings;
  IF TG_OP = 'INSERT' THEN
    IF EXISTS (SELECT 1 FROM blocked_addresses b WHERE b.address = NEW.address) THEN
      NEW.disabled_at := coalesce(NEW.disabled_at, now());
    END IF;
    IF NEW.owner_id IS NOT NULL THEN
      -- Serializes concurrent adds of one account, so the count below stays true.
      SELECT coalesce(a.max_servers, st.max_servers_per_account) INTO lim
      FROM accounts a WHERE a.id = NEW.owner_id FOR UPDATE;
      IF lim > 0 THEN
        SELECT count(*) INTO n FROM servers s WHERE s.owner_id = NEW.owner_id AND s.deleted_at IS NULL;
        IF n >= lim THEN
          RAISE EXCEPTION 'this account already has % servers, the most it may have', n
            USING ERRCODE = 'TP001',
                  HINT = 'delete a server first, or ask an admin to raise the account''s limit';
        END IF;
      END IF;
    END IF;
  END IF;
  IF NEW.trial_until IS NOT NULL AND NEW.trial_until > now() THEN
    IF NEW.netspeed > st.new_server_netspeed_cap THEN
      NEW.netspeed_claimed := NEW.netspeed;
      NEW.netspeed := st.new_server_netspeed_cap;
    ELSIF TG_OP = 'INSERT' OR NEW.netspeed IS DISTINCT FROM OLD.netspeed THEN
      NEW.netspeed_claimed := NULL;  -- asked for no more than the cap
    END IF;
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER servers_claims BEFORE INSERT OR UPDATE OF netspeed, trial_until ON servers
  FOR EACH ROW EXECUTE FUNCTION servers_claims();

-- After an admin disables or enables a server: the block follows.
CREATE FUNCTION servers_block() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF OLD.disabled_at IS NULL AND NEW.disabled_at IS NOT NULL THEN
    INSERT INTO blocked_addresses (address) VALUES (NEW.address) ON CONFLICT DO NOTHING;
  ELSIF OLD.disabled_at IS NOT NULL AND NEW.disabled_at IS NULL THEN
    DELETE FROM blocked_addresses WHERE address = NEW.address;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER servers_block AFTER UPDATE OF disabled_at ON servers
  FOR EACH ROW EXECUTE FUNCTION servers_block();

-- Ends the trials whose time has come: each server gets the netspeed its volunteer asked for.
-- Returns how many trials ended.
CREATE FUNCTION end_netspeed_trials() RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH ended AS (
    UPDATE servers SET netspeed = coalesce(netspeed_claimed, netspeed), netspeed_claimed = NULL,
                       trial_until = NULL
    WHERE trial_until <= now()
    RETURNING 1
  )
  SELECT count(*)::integer FROM ended
$$;

-- An admin trusts a server's claim now: the trial ends and the asked-for netspeed applies.
CREATE FUNCTION trust_server(id bigint) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH t AS (
    UPDATE servers s SET netspeed = coalesce(s.netspeed_claimed, s.netspeed),
                         netspeed_claimed = NULL, trial_until = NULL
    WHERE s.id = trust_server.id AND s.deleted_at IS NULL
    RETURNING 1
  )
  SELECT count(*) > 0 FROM t
$$;

-- Someone says `addr` is theirs. Holds the pool's server at that address (if any) out of DNS
-- and records the report. Returns the report's id, or NULL when the reporter's network already
-- filed reports_per_day reports in the last day.
CREATE FUNCTION report_address(addr inet, contact text, message text, reporter inet)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  st claim_settings;
  net inet := set_masklen(reporter, CASE family(reporter) WHEN 4 THEN 24 ELSE 48 END);
  sid bigint;
  rid bigint;
BEGIN
  SELECT * INTO st FROM claim_settings;
  -- One reporter network at a time, so the count is exact under concurrent reports.
  PERFORM pg_advisory_xact_lock(hashtext('address_reports:' || host(network(net))));
  IF (SELECT count(*) FROM address_reports r
      WHERE r.reporter_address <<= network(net) AND r.created_at > now() - interval '1 day')
     >= st.reports_per_day THEN
    RETURN NULL;
  END IF;
  UPDATE servers s SET held_at = coalesce(s.held_at, now())
  WHERE s.address = addr AND s.deleted_at IS NULL
  RETURNING s.id INTO sid;
  INSERT INTO address_reports (address, server_id, contact, message, reporter_address)
  VALUES (addr, sid, contact, coalesce(message, ''), reporter)
  RETURNING id INTO rid;
  RETURN rid;
END;
$$;

-- An admin's decision on an open report: 'dismissed' ends the hold (unless another open report
-- holds the server), 'disabled' disables the server (and so blocks the address). False when
-- the report does not exist or was decided already.
CREATE FUNCTION decide_address_report(rid bigint, verdict text, actor text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r address_reports;
BEGIN
  IF verdict NOT IN ('dismissed', 'disabled') THEN
    RAISE EXCEPTION 'unknown decision "%": dismissed or disabled', verdict USING ERRCODE = '22023';
  END IF;
  UPDATE address_reports SET decided_at = now(), decided_by = actor, decision = verdict
  WHERE id = rid AND decided_at IS NULL
  RETURNING * INTO r;
  IF NOT FOUND THEN RETURN false; END IF;
  IF r.server_id IS NOT NULL THEN
    IF verdict = 'disabled' THEN
      UPDATE servers SET disabled_at = coalesce(disabled_at, now()), held_at = NULL
      WHERE id = r.server_id;
    ELSIF NOT EXISTS (SELECT 1 FROM address_reports o
                      WHERE o.server_id = r.server_id AND o.decided_at IS NULL) THEN
      UPDATE servers SET held_at = NULL WHERE id = r.server_id;
    END IF;
  END IF;
  INSERT INTO audit_log (actor, action, target, detail)
  VALUES (actor, 'report.' || CASE verdict WHEN 'dismissed' THEN 'dismiss' ELSE 'disable' END,
          host(r.address), 'report ' || r.id || ' from ' || r.contact);
  RETURN true;
END;
$$;

-- Adding or moving a server keeps its zone memberships (0003's trigger), which the web's role
-- may read but not write itself: the trigger runs as the schema's owner (it failed for
-- timepool_web before).
ALTER FUNCTION servers_sync_zones() SECURITY DEFINER SET search_path = public, pg_temp;

REVOKE EXECUTE ON FUNCTION end_netspeed_trials(), trust_server(bigint), new_server_trial_end(),
  report_address(inet, text, text, inet), decide_address_report(bigint, text, text) FROM PUBLIC;
GRANT SELECT ON claim_settings, blocked_addresses, address_reports TO timepool_web;
GRANT UPDATE ON claim_settings TO timepool_web;
GRANT UPDATE (max_servers) ON accounts TO timepool_web;
GRANT INSERT ON audit_log TO timepool_web;
GRANT EXECUTE ON FUNCTION end_netspeed_trials(), trust_server(bigint), new_server_trial_end(),
  report_address(inet, text, text, inet), decide_address_report(bigint, text, text)
  TO timepool_web;
GRANT SELECT ON claim_settings TO timepool_dns, timepool_monitor;
