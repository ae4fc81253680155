-- DNS statistics written by timepool-dns (core/query_stats): the flush log that makes each
-- flush count exactly once, how often each server was handed out per hour, and hourly totals
-- of dns_query_counts for long charts.
--
-- A DNS server sends its counts in numbered flushes. Each flush runs in one transaction that
-- first inserts (instance_id, flush_seq) here; if that row already exists the flush was applied
-- before (the commit reached the database but its acknowledgement did not reach the server)
-- and nothing else is written. A retried flush is therefore applied once. instance_id is unique
-- per process run, so sequence numbers never collide across restarts.
CREATE TABLE dns_stats_flushes (
  instance_id text NOT NULL CHECK (length(instance_id) BETWEEN 1 AND 200),
  flush_seq   bigint NOT NULL CHECK (flush_seq > 0),
  applied_at  timestamptz NOT NULL DEFAULT now(),
  query_rows  integer NOT NULL CHECK (query_rows >= 0),
  answer_rows integer NOT NULL CHECK (answer_rows >= 0),
  PRIMARY KEY (instance_id, flush_seq)
);
CREATE INDEX dns_stats_flushes_applied_idx ON dns_stats_flushes (applied_at);

-- How many answers included each server, per UTC hour (all DNS servers added up).
CREATE TABLE dns_server_answers (
  hour      timestamptz NOT NULL CHECK (extract(epoch FROM hour)::bigint % 3600 = 0),
  server_id bigint NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  count     bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (server_id, hour)
);
CREATE INDEX dns_server_answers_hour_idx ON dns_server_answers (hour);

-- dns_query_counts summed per UTC hour, written by the same flush transaction, so 90-day
-- charts read 2,160 rows per zone instead of 129,600 and old minute rows can be dropped.
CREATE TABLE dns_query_counts_hourly (
  hour    timestamptz NOT NULL CHECK (extract(epoch FROM hour)::bigint % 3600 = 0),
  zone_id integer NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  qtype   integer NOT NULL CHECK (qtype BETWEEN 0 AND 65535),
  rcode   smallint NOT NULL CHECK (rcode BETWEEN 0 AND 4095),
  count   bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (zone_id, hour, qtype, rcode)
);
CREATE INDEX dns_query_counts_hourly_hour_idx ON dns_query_counts_hourly (hour);

-- Retention: drops minute rows older than `keep_minutes`, flush records older than
-- `keep_flushes` (far longer than any DNS server keeps a failed flush queued) and returns the
-- number of minute rows removed. Hourly tables are kept.
CREATE FUNCTION dns_stats_prune(keep_minutes interval DEFAULT '14 days',
                                keep_flushes interval DEFAULT '2 days')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  removed bigint;
BEGIN
  DELETE FROM dns_query_counts WHERE minute < now() - keep_minutes;
  GET DIAGNOSTICS removed = ROW_COUNT;
  DELETE FROM dns_stats_flushes WHERE applied_at < now() - keep_flushes;
  RETURN removed;
END;
$$;
