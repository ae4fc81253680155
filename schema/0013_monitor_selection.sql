-- Per-server monitor selection, the tiered pool score, freshness (stale means out), the
-- monitoring outage (the pool is frozen, never emptied) and one least-privilege role per program.

-- Settings of the selection and of freshness: one row, changed by an admin with UPDATE.
CREATE TABLE monitoring_settings (
  single           boolean PRIMARY KEY DEFAULT true CHECK (single),
  -- How many monitors serve each server as active and as testing.
  active_monitors  integer NOT NULL DEFAULT 5 CHECK (active_monitors BETWEEN 1 AND 50),
  testing_monitors integer NOT NULL DEFAULT 3 CHECK (testing_monitors BETWEEN 0 AND 50),
  -- A server whose pool score was not computed from fresh scores for this long is stale and
  -- leaves DNS (while monitoring as a whole works).
  freshness_window interval NOT NULL DEFAULT '45 minutes'
                   CHECK (freshness_window >= interval '1 minute'),
  -- No score from any monitor for this long is a monitoring outage: the pool is frozen.
  outage_after     interval NOT NULL DEFAULT '15 minutes'
                   CHECK (outage_after >= interval '1 minute')
);
INSERT INTO monitoring_settings DEFAULT VALUES;

-- Where a monitor probes from (its /24 or /48 never monitors a server) and whose it is (at
-- most two monitors of one account serve one server).
ALTER TABLE monitors
  ADD COLUMN address    inet CHECK (masklen(address) = CASE family(address) WHEN 4 THEN 32 ELSE 128 END),
  ADD COLUMN account_id bigint REFERENCES accounts (id) ON DELETE SET NULL;

-- The selection state of each (server, monitor) pair. A monitor with no row for a server is a
-- candidate for it. `quality` is what the selector ranked the pair by (lower is better: the
-- round-trip time plus the distance of its offset from the other monitors' median offset).
CREATE TABLE server_monitors (
  server_id  bigint NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  monitor_id integer NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
  status     text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'testing', 'active')),
  quality    double precision,
  changed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (server_id, monitor_id)
);
CREATE INDEX server_monitors_monitor_idx ON server_monitors (monitor_id);

-- Whether a monitor may ever serve a server: never from the server's own /24 (IPv4) or /48
-- (IPv6). A monitor without a known address is never selected.
CREATE FUNCTION monitor_may_serve(monitor inet, server inet) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT monitor IS NOT NULL AND NOT (
    family(monitor) = family(server) AND
    set_masklen(monitor, CASE family(monitor) WHEN 4 THEN 24 ELSE 48 END)
      >>= server)
$$;

-- Freshness: set by the periodic check when a server's pool score has not been computed from
-- fresh scores within the freshness window; cleared by refresh_pool_score.
ALTER TABLE servers ADD COLUMN stale_since timestamptz;

CREATE OR REPLACE FUNCTION server_in_dns(s servers) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT s.score >= 10 AND s.netspeed > 0 AND s.deletion_on IS NULL AND s.deleted_at IS NULL
         AND s.disabled_at IS NULL AND s.stale_since IS NULL
$$;

-- The pool score of the given servers: the median of the latest scores of the server's active
-- monitors from the last 20 minutes; with none, of its testing monitors from 45 minutes; with
-- none, of its candidates (a monitor without a selection row is one) from 2 hours. Only
-- monitors whose global status is active count: a monitor on probation (testing) is measured
-- but never moves a pool score, and paused or pending ones never. A server with no such score keeps its score; one that gets a
-- score is fresh again.
DROP FUNCTION refresh_pool_score(bigint[]);
CREATE FUNCTION refresh_pool_score(ids bigint[]) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH scored AS (
    SELECT ss.server_id, ss.score, coalesce(sm.status, 'candidate') AS pair, ss.updated_at
    FROM server_scores ss
    JOIN monitors mo ON mo.id = ss.monitor_id AND mo.status = 'active'
    LEFT JOIN server_monitors sm ON sm.server_id = ss.server_id AND sm.monitor_id = ss.monitor_id
    WHERE ss.server_id = ANY (ids) AND ss.updated_at > now() - interval '2 hours'
  ), tier AS (
    SELECT server_id, score,
           CASE pair WHEN 'active' THEN 1 WHEN 'testing' THEN 2 ELSE 3 END AS tier
    FROM scored
    WHERE updated_at > now() - CASE pair WHEN 'active' THEN interval '20 minutes'
                                         WHEN 'testing' THEN interval '45 minutes'
                                         ELSE interval '2 hours' END
  ), best AS (
    SELECT server_id, min(tier) AS tier FROM tier GROUP BY server_id
  ), m AS (
    SELECT t.server_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY t.score) AS median
    FROM tier t JOIN best b ON b.server_id = t.server_id AND b.tier = t.tier
    GROUP BY t.server_id
  ), u AS (
    UPDATE servers s SET score = m.median, score_updated_at = now(), stale_since = NULL
    FROM m
    WHERE s.id = m.server_id
    RETURNING s.id
  )
  SELECT count(*)::integer FROM u
$$;

-- The state of monitoring as a whole, kept by monitoring_check(): since when no monitor has
-- reported (outage), and when the last outage ended.
CREATE TABLE monitoring_state (
  single           boolean PRIMARY KEY DEFAULT true CHECK (single),
  outage_since     timestamptz,
  outage_ended_at  timestamptz,
  checked_at       timestamptz
);
INSERT INTO monitoring_state DEFAULT VALUES;

-- The newest score any monitor wrote (NULL: none ever). Read by the outage check and the view.
CREATE FUNCTION monitoring_last_report() RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT max(updated_at) FROM server_scores
$$;

-- Whether monitoring is out right now, for timepool-dns (metric and log), the admin pages and
-- timepoolctl. outage: no monitor has written a score for outage_after (or none ever has while
-- servers exist). The pool is frozen while it lasts.
CREATE VIEW monitoring_outage AS
SELECT (r.last_report IS NULL OR r.last_report < now() - st.outage_after)
         AND EXISTS (SELECT 1 FROM servers WHERE deleted_at IS NULL) AS outage,
       r.last_report,
       CASE WHEN r.last_report IS NULL THEN NULL
            ELSE extract(epoch FROM now() - r.last_report) END AS seconds_since_report,
       ms.outage_since,
       st.outage_after,
       st.freshness_window
FROM (SELECT monitoring_last_report() AS last_report) r, monitoring_settings st, monitoring_state ms;

-- The periodic freshness check (run every minute or so by one central job: `timepoolctl
-- monitoring check` from a systemd timer). While monitors report, servers whose pool score is
-- older than the freshness window become stale and leave DNS. During an outage nothing
-- changes, and for one freshness window after it ends nothing becomes stale, so the monitors
-- can catch up before anyone is judged. Returns the number of servers it made stale.
CREATE FUNCTION monitoring_check() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  o monitoring_outage%ROWTYPE;
  st monitoring_state%ROWTYPE;
  made integer := 0;
BEGIN
  SELECT * INTO st FROM monitoring_state FOR UPDATE;
  SELECT * INTO o FROM monitoring_outage;
  IF o.outage THEN
    IF st.outage_since IS NULL THEN
      UPDATE monitoring_state SET outage_since = coalesce(o.last_report, now());
      RAISE WARNING 'monitoring outage: no monitor has reported since %', o.last_report;
    END IF;
  ELSE
    IF st.outage_since IS NOT NULL THEN
      UPDATE monitoring_state SET outage_since = NULL, outage_ended_at = now();
      st.outage_ended_at := now();
      RAISE WARNING 'monitoring outage over: monitors report again';
    END IF;
    IF st.outage_ended_at IS NULL OR st.outage_ended_at < now() - o.freshness_window THEN
      UPDATE servers SET stale_since = now()
      WHERE stale_since IS NULL AND deleted_at IS NULL
        AND coalesce(score_updated_at, created_at) < now() - o.freshness_window;
      GET DIAGNOSTICS made = ROW_COUNT;
    END IF;
  END IF;
  UPDATE monitoring_state SET checked_at = now();
  RETURN made;
END;
$$;

-- The selector: for every server that is probed (not deleted, not disabled), keeps
-- active_monitors active and testing_monitors testing monitors among the monitors that may
-- serve it (monitor_may_serve, global status active or testing, at most two of one account),
-- ranked by quality = round-trip time + |offset - median offset of the server's monitors|, from
-- scores of the last 2 hours (a pair without one is ranked last). Hysteresis: an active pair's
-- quality counts 25% better and a testing pair's 10% better than it is, a pair becomes active
-- only from testing, and only a monitor whose global status is active is made active (such
-- monitors also come first for the testing places, so a globally testing monitor does not hold
-- a place that leads nowhere while others wait). Pairs
-- that may no longer serve are removed. Returns the number of pairs whose status changed.
CREATE FUNCTION select_monitors() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  cfg monitoring_settings%ROWTYPE;
  n_changed integer;
BEGIN
  SELECT * INTO cfg FROM monitoring_settings;
  -- One selector at a time (a second caller waits, then works on the first one's result).
  PERFORM pg_advisory_xact_lock(hashtext('timepool select_monitors'));

  DELETE FROM server_monitors sm USING servers s, monitors mo
  WHERE s.id = sm.server_id AND mo.id = sm.monitor_id
    AND (s.deleted_at IS NOT NULL OR s.disabled_at IS NOT NULL
         OR mo.status NOT IN ('active', 'testing') OR NOT monitor_may_serve(mo.address, s.address));

  WITH pairs AS (
    SELECT s.id AS server_id, mo.id AS monitor_id, mo.status AS monitor_status,
           coalesce(mo.account_id, -mo.id) AS account,
           coalesce(sm.status, 'candidate') AS status,
           ss.rtt_s, ss.offset_s
    FROM servers s
    JOIN monitors mo ON mo.status IN ('active', 'testing') AND monitor_may_serve(mo.address, s.address)
    LEFT JOIN server_monitors sm ON sm.server_id = s.id AND sm.monitor_id = mo.id
    LEFT JOIN server_scores ss ON ss.server_id = s.id AND ss.monitor_id = mo.id
                               AND ss.updated_at > now() - interval '2 hours' AND ss.error IS NULL
    WHERE s.deleted_at IS NULL AND s.disabled_at IS NULL
  ), med AS (
    SELECT server_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY offset_s) AS offset_s
    FROM pairs WHERE offset_s IS NOT NULL GROUP BY server_id
  ), q AS (
    SELECT p.*, p.rtt_s + abs(p.offset_s - m.offset_s) AS quality,
           (p.rtt_s + abs(p.offset_s - m.offset_s))
             * CASE p.status WHEN 'active' THEN 0.75 WHEN 'testing' THEN 0.9 ELSE 1 END AS rank_q
    FROM pairs p LEFT JOIN med m ON m.server_id = p.server_id
  ), capped AS (
    -- At most two monitors of one account: the best two of each account may be chosen.
    SELECT q.*, row_number() OVER (PARTITION BY server_id, account
                                   ORDER BY rank_q NULLS LAST, monitor_id) <= 2 AS allowed
    FROM q
  ), act AS (
    SELECT c.*, allowed AND monitor_status = 'active' AND status IN ('active', 'testing')
                AND rank_q IS NOT NULL AS can_be_active
    FROM capped c
  ), act_ranked AS (
    SELECT a.*, CASE WHEN can_be_active THEN
                  row_number() OVER (PARTITION BY server_id, can_be_active
                                     ORDER BY rank_q, monitor_id) END AS active_rank
    FROM act a
  ), test_ranked AS (
    SELECT r.*, CASE WHEN allowed AND NOT coalesce(active_rank <= cfg.active_monitors, false) THEN
                  row_number() OVER (PARTITION BY server_id,
                                     allowed AND NOT coalesce(active_rank <= cfg.active_monitors, false)
                                     ORDER BY monitor_status = 'active' DESC, rank_q NULLS LAST,
                                              monitor_id) END AS testing_rank
    FROM act_ranked r
  ), wanted AS (
    SELECT server_id, monitor_id, quality,
           CASE WHEN active_rank <= cfg.active_monitors THEN 'active'
                WHEN testing_rank <= cfg.testing_monitors THEN 'testing'
                ELSE 'candidate' END AS status
    FROM test_ranked
  ), up AS (
    INSERT INTO server_monitors AS sm (server_id, monitor_id, status, quality)
    SELECT server_id, monitor_id, status, quality FROM wanted
    ON CONFLICT (server_id, monitor_id) DO UPDATE
      SET status = EXCLUDED.status, quality = EXCLUDED.quality,
          changed_at = CASE WHEN sm.status = EXCLUDED.status THEN sm.changed_at ELSE now() END
    RETURNING sm.changed_at = now() AS changed
  )
  SELECT count(*) FILTER (WHERE up.changed) INTO n_changed FROM up;
  RETURN n_changed;
END;
$$;

-- Least privilege: one NOLOGIN group role per program. Deployments grant them to login users
-- (GRANT timepool_dns TO dns_edge_1). The owner of the schema (who runs the migrations) keeps
-- every right; the roles get only what their program does.
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['timepool_dns', 'timepool_web', 'timepool_monitor'] LOOP
    -- Roles belong to the cluster: several databases migrating at once may race to create them.
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
END;
$$;

-- Functions are executable by PUBLIC unless revoked: the ones that change scores, freshness or
-- selection are for their caller alone.
-- The probe log's partitions belong to the owner: the monitor keeps them through these.
ALTER FUNCTION probe_log_ensure_partitions(date, integer)
  SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION probe_log_drop_before(date) SECURITY DEFINER SET search_path = public, pg_temp;
-- The change counter (0012) is bumped by triggers in the writer's transaction, whoever the
-- writer is (the web role edits servers): it runs as the owner, so no role writes it directly.
ALTER FUNCTION dns_changed(text) SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION refresh_pool_score(bigint[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION monitoring_check() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION select_monitors() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION probe_log_ensure_partitions(date, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION probe_log_drop_before(date) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION purge_deleted_servers() FROM PUBLIC;

GRANT SELECT ON schema_migrations, monitoring_outage, monitoring_settings
  TO timepool_dns, timepool_web, timepool_monitor;

-- timepool-dns reads what it serves (the view, not the servers table: no owners, no scores
-- beyond what DNS hands out), LISTENs, and writes its statistics.
GRANT SELECT ON zones, server_zones, vendor_zones, eligible_servers, dns_change TO timepool_dns;
GRANT SELECT (id) ON servers TO timepool_dns;
GRANT SELECT, INSERT, UPDATE ON dns_query_counts, dns_query_counts_hourly, dns_server_answers,
  dns_stats_flushes TO timepool_dns;

-- timepool-web: accounts, servers, vendor zones, findings and tokens are its own; scores, the
-- probe log, selection and statistics it reads. It never writes a score.
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, sessions, login_attempts, vendor_zones,
  zone_findings, zone_findings_runs, api_tokens TO timepool_web;
GRANT SELECT, INSERT, UPDATE, DELETE ON zones TO timepool_web;
GRANT SELECT, INSERT, DELETE ON servers TO timepool_web;
GRANT UPDATE (owner_id, netspeed, country, deletion_on, deleted_at, disabled_at) ON servers
  TO timepool_web;
GRANT SELECT ON server_zones, eligible_servers, monitors, server_scores, probe_log,
  server_monitors, monitoring_state, dns_query_counts, dns_query_counts_hourly,
  dns_server_answers, dns_stats_flushes TO timepool_web;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO timepool_web;
GRANT DELETE ON dns_query_counts, dns_query_counts_hourly, dns_stats_flushes TO timepool_web;
GRANT EXECUTE ON FUNCTION purge_deleted_servers() TO timepool_web;
-- The monitoring upkeep that timepool-web runs (web/monitoring_job.hpp).
GRANT EXECUTE ON FUNCTION select_monitors(), monitoring_check() TO timepool_web;

-- timepool-monitor (until the monitor API takes its place): reads its own row and the servers to
-- probe, writes its probe log and per-server scores, refreshes the pool score through
-- refresh_pool_score (which alone writes servers.score) and keeps the probe log's partitions.
GRANT SELECT ON monitors, server_monitors TO timepool_monitor;
GRANT UPDATE (last_seen) ON monitors TO timepool_monitor;
GRANT SELECT (id, address, deleted_at, disabled_at) ON servers TO timepool_monitor;
GRANT SELECT, INSERT, UPDATE ON server_scores TO timepool_monitor;
GRANT SELECT, INSERT ON probe_log TO timepool_monitor;
GRANT EXECUTE ON FUNCTION refresh_pool_score(bigint[]), probe_log_ensure_partitions(date, integer),
  probe_log_drop_before(date) TO timepool_monitor;
