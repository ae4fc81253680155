-- The monitor API: monitors submit raw results in batches that they name; each batch is applied
-- once. A batch whose id is already here is acknowledged and written nowhere again.

CREATE TABLE monitor_batches (
  monitor_id  integer NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
  batch_id    text NOT NULL CHECK (batch_id ~ '^[A-Za-z0-9._-]{1,64}$'),
  received_at timestamptz NOT NULL DEFAULT now(),
  results     integer NOT NULL,
  scored      integer NOT NULL,
  PRIMARY KEY (monitor_id, batch_id)
);
CREATE INDEX monitor_batches_received_idx ON monitor_batches (received_at);

-- timepool-monitor-api (the monitor API) connects as timepool_monitor: it authenticates monitors
-- by their key's hash, reads their assignments, records each batch once, writes the probe log and
-- per-monitor scores and refreshes the pool score (0013 granted those). It forgets batch ids
-- older than the oldest result it still accepts.
GRANT SELECT, INSERT, DELETE ON monitor_batches TO timepool_monitor;
