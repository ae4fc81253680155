-- Findings about a zone's DNS load (synchronized bursts of a fleet, core/bursts), computed once
-- by a periodic job in timepool-web (web/findings_job) and read by the vendor and admin pages,
-- the API and timepoolctl; read-only API tokens for vendors; retention of the DNS statistics
-- that matches what the job reads.

-- One row per finding and zone. `fkey` is the finding's stable identity across runs
-- (BurstFinding::key(), "weekly/9/1185"); the job replaces a zone's rows in one transaction and
-- keeps the earliest first_seen of a finding that persists.
CREATE TABLE zone_findings (
  zone_id        integer NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  fkey           text NOT NULL CHECK (length(fkey) BETWEEN 1 AND 100),
  -- recurring: a period was found; once: a large burst seen once, watched for a repeat.
  kind           text NOT NULL CHECK (kind IN ('recurring', 'once')),
  period         text NOT NULL
                 CHECK (period IN ('once', 'hourly', 'daily', 'weekly', 'every-other-week')),
  -- bit d = weekday d (0 = Sunday); 0 for hourly and daily findings.
  weekdays       smallint NOT NULL CHECK (weekdays BETWEEN 0 AND 127),
  -- UTC minute of the day the window starts (hourly: minute of the hour) and its length.
  window_start   smallint NOT NULL CHECK (window_start BETWEEN 0 AND 1439),
  window_minutes smallint NOT NULL CHECK (window_minutes BETWEEN 1 AND 1440),
  typical_count  bigint NOT NULL CHECK (typical_count >= 0),   -- queries in one window
  factor         double precision NOT NULL CHECK (factor >= 0),  -- times the normal load
  first_seen     timestamptz NOT NULL,
  last_seen      timestamptz NOT NULL,
  -- Each window found in the data read: starts and ends (inclusive), Unix minutes.
  window_starts  bigint[] NOT NULL,
  window_ends    bigint[] NOT NULL,
  warning        text NOT NULL CHECK (length(warning) BETWEEN 1 AND 1000),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (zone_id, fkey),
  CHECK (cardinality(window_starts) = cardinality(window_ends)),
  CHECK (first_seen <= last_seen)
);

-- What the job did last (one row), for pages that say how fresh the findings are and for
-- tests that wait for a run.
CREATE TABLE zone_findings_runs (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  zones       integer NOT NULL CHECK (zones >= 0),
  findings    integer NOT NULL CHECK (findings >= 0),
  runs        bigint NOT NULL DEFAULT 1 CHECK (runs > 0)
);

-- Read-only API tokens a vendor makes for one of its zones. The token itself is shown once;
-- only its SHA-256 is stored (like sessions), so a leaked table opens nothing.
CREATE TABLE api_tokens (
  id           bigserial PRIMARY KEY,
  account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  zone_id      integer NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  label        text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
  token_hash   text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_tokens_zone_idx ON api_tokens (zone_id, account_id);

-- Retention consistent with what reads the counts: minute rows for at least the findings
-- window (28 days) plus a week of margin, hourly rows for the 90-day charts and a year beyond.
-- The findings job calls it with its configured values (never less than it reads).
DROP FUNCTION dns_stats_prune(interval, interval);
CREATE FUNCTION dns_stats_prune(keep_minutes interval DEFAULT '35 days',
                                keep_flushes interval DEFAULT '2 days',
                                keep_hours interval DEFAULT '400 days')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  removed bigint;
BEGIN
  DELETE FROM dns_query_counts WHERE minute < now() - keep_minutes;
  GET DIAGNOSTICS removed = ROW_COUNT;
  DELETE FROM dns_query_counts_hourly WHERE hour < now() - keep_hours;
  DELETE FROM dns_server_answers WHERE hour < now() - keep_hours;
  DELETE FROM dns_stats_flushes WHERE applied_at < now() - keep_flushes;
  RETURN removed;
END;
$$;
