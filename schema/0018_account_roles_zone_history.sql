-- One account may be both a volunteer and a vendor. `role` stays the account's main role (the
-- page it lands on after logging in, what timepoolctl shows first); `extra_roles` holds the
-- other one when the owner added it on the account page. Admins have no extra roles: they
-- may open every page already.
ALTER TABLE accounts
  ADD COLUMN extra_roles text[] NOT NULL DEFAULT '{}',
  ADD CONSTRAINT accounts_extra_roles_check CHECK (
    extra_roles <@ ARRAY['volunteer', 'vendor']::text[]
    AND NOT (role = ANY (extra_roles))
    AND (role <> 'admin' OR cardinality(extra_roles) = 0));

-- How many servers each zone had in DNS over time, for the zone pages: timepool-web's
-- monitoring upkeep calls zone_servers_record() every round (a minute); each hour keeps the
-- lowest count seen in it, so a dip is not hidden by a later recovery. Only zones that have
-- registered servers (and the global zone) get rows; a year and a month are kept.
CREATE TABLE zone_servers_hourly (
  hour    timestamptz NOT NULL CHECK (extract(epoch FROM hour)::bigint % 3600 = 0),
  zone_id integer NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  v4      integer NOT NULL CHECK (v4 >= 0),
  v6      integer NOT NULL CHECK (v6 >= 0),
  PRIMARY KEY (zone_id, hour)
);

CREATE FUNCTION zone_servers_record() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  INSERT INTO zone_servers_hourly (hour, zone_id, v4, v6)
  SELECT date_trunc('hour', now()), z.id,
         count(e.id) FILTER (WHERE e.ip_version = 4),
         count(e.id) FILTER (WHERE e.ip_version = 6)
  FROM zones z
  JOIN server_zones sz ON sz.zone_id = z.id
  JOIN servers s ON s.id = sz.server_id AND s.deleted_at IS NULL
  LEFT JOIN eligible_servers e ON e.id = s.id
  GROUP BY z.id
  ON CONFLICT (zone_id, hour) DO UPDATE
    SET v4 = least(zone_servers_hourly.v4, EXCLUDED.v4),
        v6 = least(zone_servers_hourly.v6, EXCLUDED.v6);
  GET DIAGNOSTICS n = ROW_COUNT;
  DELETE FROM zone_servers_hourly WHERE hour < now() - interval '400 days';
  RETURN n;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON zone_servers_hourly TO timepool_web;
GRANT EXECUTE ON FUNCTION zone_servers_record() TO timepool_web;
