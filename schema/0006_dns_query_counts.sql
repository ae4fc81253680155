-- DNS queries per zone per minute, by query type and response code. Several DNS servers add
-- their counts into the same rows (INSERT ... ON CONFLICT DO UPDATE SET count = count + ...).

CREATE TABLE dns_query_counts (
  minute  timestamptz NOT NULL CHECK (date_trunc('minute', minute) = minute),
  zone_id integer NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  qtype   integer NOT NULL CHECK (qtype BETWEEN 0 AND 65535),
  rcode   smallint NOT NULL CHECK (rcode BETWEEN 0 AND 4095),
  count   bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (zone_id, minute, qtype, rcode)
);
CREATE INDEX dns_query_counts_minute_idx ON dns_query_counts (minute);
