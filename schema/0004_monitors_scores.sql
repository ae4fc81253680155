-- Monitors, their per-server scores and the log of every probe.

CREATE TABLE monitors (
  id         serial PRIMARY KEY,
  name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  -- hex SHA-256 of the monitor's key; the key itself is shown once and never stored.
  key_hash   text NOT NULL UNIQUE,
  -- pending: registered, not yet probing; testing: probing, its scores do not count;
  -- active: its scores make the pool score; paused: may not run.
  status     text NOT NULL DEFAULT 'pending'
             CHECK (status IN ('pending', 'testing', 'active', 'paused')),
  location   text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen  timestamptz
);

-- The latest score of each server as seen by each monitor: "the newest scores of all servers"
-- is this table, one row per (server, monitor), never a scan of the probe log.
CREATE TABLE server_scores (
  server_id  bigint NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  monitor_id integer NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
  score      double precision NOT NULL DEFAULT 0 CHECK (score <= 20 AND score >= -1000),
  step       double precision,
  offset_s   double precision,
  rtt_s      double precision,
  stratum    smallint,
  leap       smallint,
  error      text,
  probes     bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (server_id, monitor_id)
);
CREATE INDEX server_scores_monitor_idx ON server_scores (monitor_id);

-- Every probe. Size: the public pool writes about 50 probes per server per hour, so 10,000
-- servers make 500,000 rows an hour, 12 million a day, 4.4 billion a year. The table is
-- partitioned by day (UTC) on ts:
--  * one server's history is an index range scan of (server_id, ts) in the few daily
--    partitions that the time range touches (partition pruning), whatever the table's size;
--  * the newest scores of all servers never scan the log (server_scores above);
--  * retention drops whole partitions (probe_log_drop_before), with no DELETE and no bloat;
--  * a row lands in probe_log_default only if no partition was made for its day in time;
--    probe_log_ensure_partitions, called by migrations and daily by the monitor, prevents it.
-- The primary key makes a re-sent batch a no-op (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE probe_log (
  ts         timestamptz NOT NULL,
  server_id  bigint NOT NULL,
  monitor_id integer NOT NULL,
  step       real NOT NULL,
  score      real NOT NULL CHECK (score <= 20),
  offset_s   double precision,
  rtt_s      real,
  stratum    smallint,
  leap       smallint,
  error      text,
  PRIMARY KEY (server_id, ts, monitor_id)
) PARTITION BY RANGE (ts);
CREATE TABLE probe_log_default PARTITION OF probe_log DEFAULT;

-- Creates the daily partitions for `days` days from `first_day` that do not exist yet; returns
-- how many it created. A day whose rows already sit in the default partition is skipped.
CREATE FUNCTION probe_log_ensure_partitions(first_day date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  d date;
  made integer := 0;
  part text;
BEGIN
  FOR i IN 0 .. days - 1 LOOP
    d := first_day + i;
    part := 'probe_log_' || to_char(d, 'YYYYMMDD');
    IF to_regclass(part) IS NULL THEN
      BEGIN
        EXECUTE format(
          'CREATE TABLE %I PARTITION OF probe_log FOR VALUES FROM (%L) TO (%L)', part,
          (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
        made := made + 1;
      EXCEPTION WHEN check_violation THEN
        RAISE NOTICE 'probe_log: rows for % are in the default partition; % not created', d, part;
      END;
    END IF;
  END LOOP;
  RETURN made;
END;
$$;

-- Drops the daily partitions that end on or before `day`; returns how many it dropped.
CREATE FUNCTION probe_log_drop_before(day date) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  r record;
  dropped integer := 0;
BEGIN
  FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'probe_log'::regclass AND c.relname ~ '^probe_log_[0-9]{8}$'
             AND to_date(substr(c.relname, 11), 'YYYYMMDD') < day LOOP
    EXECUTE format('DROP TABLE %I', r.relname);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END;
$$;

SELECT probe_log_ensure_partitions(current_date - 7, 22);

-- Recomputes the pool score of the given servers: the lower median of the scores that active
-- monitors wrote in the last 20 minutes. A server with no such score keeps its score.
CREATE FUNCTION refresh_pool_score(ids bigint[]) RETURNS integer LANGUAGE sql AS $$
  WITH m AS (
    SELECT ss.server_id,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY ss.score) AS median
    FROM server_scores ss
    JOIN monitors mo ON mo.id = ss.monitor_id AND mo.status = 'active'
    WHERE ss.server_id = ANY (ids) AND ss.updated_at > now() - interval '20 minutes'
    GROUP BY ss.server_id
  ), u AS (
    UPDATE servers s SET score = m.median, score_updated_at = now()
    FROM m
    WHERE s.id = m.server_id
    RETURNING s.id
  )
  SELECT count(*)::integer FROM u
$$;
