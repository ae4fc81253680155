-- The monitor selector, bounded and incremental. Before, every monitor was a candidate for every
-- server: one run ranked servers x monitors pairs (5,000,000 at 50,000 x 100) and upserted every
-- one. Now each server has a bounded set of pairs (active, testing and at most
-- candidate_monitors candidates, a few new ones added per review), monitors with a known address
-- probe only their pairs, and one run reviews only the servers that are due: new ones, those whose
-- last review changed something (so the pipeline candidate -> testing -> active keeps moving),
-- those whose monitors changed, and every other server once per review_interval (about one probe
-- cycles: by then each pair has new scores). The rules of the ranking are those of 0013.

ALTER TABLE monitoring_settings
  -- Candidates per server besides its active and testing pairs (measured, waiting for a place).
  ADD COLUMN candidate_monitors integer NOT NULL DEFAULT 4 CHECK (candidate_monitors BETWEEN 0 AND 100),
  -- At most this many new candidates per server in one review.
  ADD COLUMN new_candidates     integer NOT NULL DEFAULT 2 CHECK (new_candidates BETWEEN 1 AND 100),
  -- A candidate that has waited this long and is the server's worst makes room for a new one
  -- (so monitors that joined later get measured too).
  ADD COLUMN candidate_rotation interval NOT NULL DEFAULT '6 hours'
                                CHECK (candidate_rotation >= interval '1 minute'),
  -- A settled server is reviewed again after this long (times 0.5 to 1.5, so reviews spread out):
  -- about two probe cycles, so each review sees new scores of every pair.
  ADD COLUMN review_interval    interval NOT NULL DEFAULT '20 minutes'
                                CHECK (review_interval >= interval '0'),
  -- At most this many servers reviewed in one run (the longest waiting first): bounds a run's
  -- time. At least servers x upkeep interval / review_interval (50,000 servers reviewed every
  -- 20 minutes by a run a minute: 2,500).
  ADD COLUMN review_batch       integer NOT NULL DEFAULT 2500 CHECK (review_batch BETWEEN 1 AND 10000000);

-- A review rewrites a few thousand pairs' status: room on each page keeps those updates HOT (no
-- new index entries).
ALTER TABLE server_monitors SET (fillfactor = 80);

-- When each server was last reviewed and when it is due again. A server without a row (or with
-- no next_review) has never been reviewed and comes first; then the longest waiting.
CREATE TABLE server_selection (
  server_id   bigint PRIMARY KEY REFERENCES servers (id) ON DELETE CASCADE,
  reviewed_at timestamptz,
  next_review timestamptz
) WITH (fillfactor = 80);

-- The pairs the selector removed (the monitor left, or made room as the worst candidate), kept
-- for a day: results a monitor took while still paired are accepted after the pair has gone
-- (the monitor API's assigned_among), so a batch is not refused for a pair that just ended.
CREATE TABLE server_monitors_removed (
  server_id  bigint NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  monitor_id integer NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
  removed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (server_id, monitor_id)
);
CREATE INDEX server_monitors_removed_at_idx ON server_monitors_removed (removed_at);

-- Candidates used to be implicit (every monitor); the rows the old selector wrote for all of them
-- go, the selector adds a bounded set again. Servers with pairs are due at the next run.
DELETE FROM server_monitors WHERE status = 'candidate';
INSERT INTO server_selection (server_id) SELECT DISTINCT server_id FROM server_monitors;

-- A monitor whose status, address or account changes makes every server it serves due: a paused
-- or moved monitor leaves, a demoted one steps back, at the next run rather than at the next
-- periodic review.
CREATE FUNCTION monitors_selection_due() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE server_selection x SET next_review = now()
  FROM server_monitors sm
  WHERE sm.monitor_id = NEW.id AND x.server_id = sm.server_id AND x.next_review > now();
  RETURN NULL;
END;
$$;
CREATE TRIGGER monitors_selection_due AFTER UPDATE OF status, address, account_id ON monitors
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.address IS DISTINCT FROM NEW.address
        OR OLD.account_id IS DISTINCT FROM NEW.account_id)
  EXECUTE FUNCTION monitors_selection_due();

-- The selector. For each due server (at most review_batch, the longest waiting first):
--  1. pairs that may no longer serve go (monitor not active or testing, no address, or in the
--     server's /24 or /48: monitor_may_serve), after step 2;
--  2. up to new_candidates new candidates join while the server has fewer than active_monitors
--     + testing_monitors + candidate_monitors pairs, picked from a random place in the list of
--     monitors that may serve it;
--  3. its pairs are ranked as in 0013: quality = round-trip time + |offset - median offset of
--     the server's monitors|, from scores of the last 2 hours (a pair whose latest result is an
--     error ranks 1 s, one without any score last); an active pair's quality counts 25% and a
--     testing pair's 10% better than it is (hysteresis); at most two monitors of one account are active or testing; a pair becomes
--     active only from testing, and only a monitor whose global status is active becomes
--     active; such monitors come first for the testing places;
--  4. when the server has all its pairs and no candidate came or changed for
--     candidate_rotation, its worst candidate makes room for a monitor that has not measured it;
--  5. it is due again at the next run if anything changed, else after about review_interval.
-- Only pairs whose status changes are written. Returns the number of pairs added, evicted or
-- whose status changed.
-- The pairs, scores and servers of a run are read by key for the few thousand due servers; at
-- the default cost of a random read the planner scans all 600,000 pairs and scores instead
-- (they are in memory: the selector reads them every minute).
CREATE OR REPLACE FUNCTION select_monitors() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET random_page_cost = 1.1
AS $$
DECLARE
  cfg monitoring_settings%ROWTYPE;
  due bigint[];
  grew bigint[];
  moved bigint[];
  target integer;
  m_ids integer[];
  m_addrs inet[];
  n_mons integer;
  n_changed integer;
BEGIN
  SELECT * INTO cfg FROM monitoring_settings;
  -- One selector at a time (a second caller waits, then works on the first one's result).
  PERFORM pg_advisory_xact_lock(hashtext('timepool select_monitors'));
  target := cfg.active_monitors + cfg.testing_monitors + cfg.candidate_monitors;

  -- Servers that left (deleted or disabled) lose their pairs and their review state; one that
  -- comes back is new again.
  WITH gone AS (
    DELETE FROM server_selection x USING servers s
    WHERE s.id = x.server_id AND (s.deleted_at IS NOT NULL OR s.disabled_at IS NOT NULL)
    RETURNING x.server_id
  )
  DELETE FROM server_monitors sm USING gone g WHERE sm.server_id = g.server_id;

  SELECT coalesce(array_agg(id), '{}') INTO due FROM (
    SELECT s.id FROM servers s LEFT JOIN server_selection x ON x.server_id = s.id
    WHERE s.deleted_at IS NULL AND s.disabled_at IS NULL
      AND (x.next_review IS NULL OR x.next_review <= now())
    ORDER BY x.next_review NULLS FIRST, s.id
    LIMIT cfg.review_batch) d;
  IF cardinality(due) = 0 THEN
    RETURN 0;
  END IF;

  -- 2. New candidates, a few at a time, from a random place in the list of monitors.
  SELECT coalesce(array_agg(id ORDER BY id), '{}'), coalesce(array_agg(address ORDER BY id), '{}')
  INTO m_ids, m_addrs
  FROM monitors WHERE status IN ('active', 'testing') AND address IS NOT NULL;
  n_mons := cardinality(m_ids);
  WITH have AS (
    SELECT sm.server_id, array_agg(sm.monitor_id) AS paired
    FROM server_monitors sm WHERE sm.server_id = ANY (due)
    GROUP BY sm.server_id
  ), room AS (
    SELECT s.id AS server_id, s.address, coalesce(h.paired, '{}') AS paired,
           least(cfg.new_candidates, target - coalesce(cardinality(h.paired), 0)) AS room,
           floor(random() * n_mons)::integer AS start
    FROM servers s LEFT JOIN have h ON h.server_id = s.id
    WHERE s.id = ANY (due) AND coalesce(cardinality(h.paired), 0) < target AND n_mons > 0
  ), tried AS (
    -- Enough monitors that most servers find their room; one that does not is due again at
    -- the next run.
    SELECT r.server_id, r.room, j, m_ids[1 + (r.start + j) % n_mons] AS monitor_id, r.paired
    FROM room r CROSS JOIN LATERAL generate_series(0, least(n_mons, 2 * r.room + target) - 1) j
    WHERE monitor_may_serve(m_addrs[1 + (r.start + j) % n_mons], r.address)
      AND NOT m_ids[1 + (r.start + j) % n_mons] = ANY (r.paired)
  ), pick AS (
    -- Monitors that never measured the server first (one that made room is not taken back at
    -- once); a server with no pairs yet has no such history worth a look.
    SELECT server_id, monitor_id, room,
           row_number() OVER (PARTITION BY server_id ORDER BY
             CASE WHEN cardinality(paired) = 0 THEN false
                  ELSE EXISTS (SELECT 1 FROM server_scores ss
                               WHERE ss.server_id = t.server_id AND ss.monitor_id = t.monitor_id)
             END, j) AS k
    FROM tried t
  ), ins AS (
    INSERT INTO server_monitors (server_id, monitor_id, status)
    SELECT server_id, monitor_id, 'candidate' FROM pick WHERE k <= room
    RETURNING server_id
  )
  SELECT coalesce(array_agg(DISTINCT server_id), '{}'), count(*) INTO grew, n_changed FROM ins;

  -- 1., 3. and 4. Pairs that may no longer serve go; the rest are ranked; only pairs whose
  -- status changes are written. Three sorts of the due servers' pairs: by account (the cap), by
  -- quality (the active places), by global status and quality (the testing places).
  WITH pairs AS MATERIALIZED (
    SELECT sm.server_id, sm.monitor_id, sm.status, sm.changed_at, mo.status = 'active' AS mon_active,
           coalesce(mo.account_id, -mo.id) AS account,
           CASE WHEN ss.error IS NULL THEN ss.rtt_s END AS rtt_s,
           CASE WHEN ss.error IS NULL THEN ss.offset_s END AS offset_s,
           ss.error IS NOT NULL AS failed,
           mo.status IN ('active', 'testing') AND monitor_may_serve(mo.address, s.address) AS may
    FROM server_monitors sm
    JOIN servers s ON s.id = sm.server_id
    JOIN monitors mo ON mo.id = sm.monitor_id
    LEFT JOIN server_scores ss ON ss.server_id = sm.server_id AND ss.monitor_id = sm.monitor_id
                               AND ss.updated_at > now() - interval '2 hours'
                               AND ss.server_id = ANY (due)
    -- The due servers named on each table lets the planner read each by key, not all of it.
    WHERE sm.server_id = ANY (due) AND s.id = ANY (due)
  ), gone AS (
    DELETE FROM server_monitors sm USING pairs p
    WHERE NOT p.may AND sm.server_id = p.server_id AND sm.monitor_id = p.monitor_id
    RETURNING sm.server_id, sm.monitor_id
  ), med AS (
    SELECT server_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY offset_s) AS offset_s
    FROM pairs WHERE may AND offset_s IS NOT NULL GROUP BY server_id
  ), q AS (
    SELECT p.server_id, p.monitor_id, p.status, p.changed_at, p.mon_active, p.account,
           -- A pair whose latest result is an error (no reply, a kiss-o'-death) ranks 1 s: after
           -- every pair that saw replies, but it may be active. Otherwise, on a server most
           -- monitors cannot reach, the one that reports replies (a broken path, or a stolen key
           -- sending samples the server never gave) would be its only active monitor and its
           -- score alone the pool score (integration.monitor.sites, the lying monitor).
           CASE WHEN p.failed THEN 1.0 ELSE p.rtt_s + abs(p.offset_s - m.offset_s) END AS quality,
           CASE WHEN p.failed THEN 1.0 ELSE p.rtt_s + abs(p.offset_s - m.offset_s) END
             * CASE p.status WHEN 'active' THEN 0.75 WHEN 'testing' THEN 0.9 ELSE 1 END AS rank_q
    FROM pairs p LEFT JOIN med m ON m.server_id = p.server_id
    WHERE p.may
  ), capped AS (
    -- At most two monitors of one account: the best two of each account may be chosen.
    SELECT q.*, row_number() OVER (PARTITION BY server_id, account
                                   ORDER BY rank_q NULLS LAST, monitor_id) <= 2 AS allowed
    FROM q
  ), act AS (
    SELECT c.*, allowed AND mon_active AND status <> 'candidate' AND rank_q IS NOT NULL
                AND count(*) FILTER (WHERE allowed AND mon_active AND status <> 'candidate'
                                           AND rank_q IS NOT NULL)
                      OVER (PARTITION BY server_id ORDER BY rank_q NULLS LAST, monitor_id
                            ROWS UNBOUNDED PRECEDING) <= cfg.active_monitors AS to_active
    FROM capped c
  ), wanted AS (
    SELECT a.*,
           CASE WHEN to_active THEN 'active'
                WHEN allowed AND count(*) FILTER (WHERE allowed AND NOT to_active)
                                   OVER (PARTITION BY server_id
                                         ORDER BY NOT mon_active, rank_q NULLS LAST, monitor_id
                                         ROWS UNBOUNDED PRECEDING) <= cfg.testing_monitors
                  THEN 'testing'
                ELSE 'candidate' END AS new_status,
           count(*) OVER (PARTITION BY server_id) AS pairs,
           max(changed_at) FILTER (WHERE status = 'candidate') OVER (PARTITION BY server_id)
             AS newest_candidate
    FROM act a
  ), evict AS (
    -- The worst candidate of a server with all its pairs, when none has come or changed for
    -- candidate_rotation: one new monitor per server and rotation period.
    SELECT DISTINCT ON (server_id) server_id, monitor_id
    FROM wanted
    WHERE new_status = 'candidate' AND status = 'candidate' AND pairs >= target
      AND newest_candidate < now() - cfg.candidate_rotation
    ORDER BY server_id, rank_q DESC NULLS FIRST, monitor_id DESC
  ), ev AS (
    DELETE FROM server_monitors sm USING evict e
    WHERE sm.server_id = e.server_id AND sm.monitor_id = e.monitor_id
    RETURNING sm.server_id, sm.monitor_id
  ), removed AS (
    INSERT INTO server_monitors_removed AS r (server_id, monitor_id)
    SELECT server_id, monitor_id FROM gone UNION ALL SELECT server_id, monitor_id FROM ev
    ON CONFLICT (server_id, monitor_id) DO UPDATE SET removed_at = now()
  ), up AS (
    UPDATE server_monitors sm
    SET status = w.new_status, quality = w.quality, changed_at = now()
    FROM wanted w
    WHERE w.new_status <> w.status AND sm.server_id = w.server_id AND sm.monitor_id = w.monitor_id
    -- A pair added in this run and ranked at once counts once.
    RETURNING sm.server_id, w.changed_at <> now() AS counted
  ), ch AS (
    SELECT server_id, counted FROM up
    UNION ALL SELECT server_id, true FROM ev
    UNION ALL SELECT server_id, false FROM gone
  )
  SELECT coalesce(array_agg(DISTINCT server_id), '{}'), n_changed + count(*) FILTER (WHERE counted)
  INTO moved, n_changed FROM ch;

  DELETE FROM server_monitors_removed WHERE removed_at < now() - interval '1 day';

  -- 5. When each reviewed server is due again.
  INSERT INTO server_selection AS x (server_id, reviewed_at, next_review)
  SELECT d.id, now(),
         CASE WHEN d.id IN (SELECT unnest(grew || moved)) THEN now()
              ELSE now() + cfg.review_interval * (0.5 + random()) END
  FROM unnest(due) d(id)
  ON CONFLICT (server_id) DO UPDATE
    SET reviewed_at = EXCLUDED.reviewed_at, next_review = EXCLUDED.next_review;
  RETURN n_changed;
END;
$$;

-- The monitor API hands a monitor with a known address only its pairs (monitor/api/ingest.cpp).
GRANT SELECT ON server_selection, server_monitors_removed TO timepool_web, timepool_monitor;
