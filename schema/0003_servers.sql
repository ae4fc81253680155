-- Volunteer NTP servers and their zone memberships.

CREATE TABLE servers (
  id               bigserial PRIMARY KEY,
  -- One host address (no networks), IPv4 or IPv6.
  address          inet NOT NULL
                   CHECK (masklen(address) = CASE family(address) WHEN 4 THEN 32 ELSE 128 END),
  ip_version       smallint GENERATED ALWAYS AS (family(address)) STORED,
  owner_id         bigint REFERENCES accounts (id) ON DELETE SET NULL,
  -- The volunteer's connection speed in kbit/s: the weight of the server in DNS answers.
  -- 0 means "monitoring only": scored but never handed out.
  netspeed         integer NOT NULL DEFAULT 1500 CHECK (netspeed IN (
                     0, 512, 1500, 3000, 6000, 12000, 25000, 50000, 100000, 250000, 500000,
                     1000000, 1500000, 2000000, 3000000)),
  mode             text GENERATED ALWAYS AS
                   (CASE WHEN netspeed = 0 THEN 'monitoring' ELSE 'active' END) STORED,
  -- The country zone (never an alias such as 'uk'); the server is in that country's zone, its
  -- continent's zone and the global zone (server_zones, kept by a trigger below).
  country          text NOT NULL REFERENCES zones (name),
  -- Scheduled deletion: the server leaves DNS at once and is deleted on this date.
  deletion_on      date,
  -- Set when the deletion happened; the row and its history stay.
  deleted_at       timestamptz,
  -- Set by an admin: the server leaves DNS and is not probed.
  disabled_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- The pool score: the lower median of the active monitors' latest scores (refresh_pool_score).
  score            double precision NOT NULL DEFAULT 0 CHECK (score <= 20),
  score_updated_at timestamptz
);
-- An address is in the pool once; a deleted server's address may join again later.
CREATE UNIQUE INDEX servers_address_key ON servers (address) WHERE deleted_at IS NULL;
CREATE INDEX servers_owner_idx ON servers (owner_id);

CREATE TABLE server_zones (
  server_id bigint NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  zone_id   integer NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  PRIMARY KEY (server_id, zone_id)
);
CREATE INDEX server_zones_zone_idx ON server_zones (zone_id);

-- servers.country must name a real country zone; the memberships follow it: the country, its
-- continent and the global zone. An admin's override of the country is an UPDATE of servers.
CREATE FUNCTION servers_sync_zones() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  z zones%ROWTYPE;
BEGIN
  SELECT * INTO z FROM zones WHERE name = NEW.country;
  IF z.kind IS DISTINCT FROM 'country' OR z.alias_of IS NOT NULL THEN
    RAISE EXCEPTION 'server %: "%" is not a country zone', NEW.address, NEW.country
      USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.country = OLD.country AND (NEW.deleted_at IS NULL) = (OLD.deleted_at IS NULL) THEN
    RETURN NEW;
  END IF;
  DELETE FROM server_zones WHERE server_id = NEW.id;
  IF NEW.deleted_at IS NULL THEN
    INSERT INTO server_zones (server_id, zone_id)
    SELECT NEW.id, id FROM zones WHERE id IN (z.id, z.parent_id) OR kind = 'global';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER servers_sync_zones AFTER INSERT OR UPDATE OF country, deleted_at ON servers
  FOR EACH ROW EXECUTE FUNCTION servers_sync_zones();

-- Whether a server may be handed out in DNS answers (besides its owner's account state).
CREATE FUNCTION server_in_dns(s servers) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT s.score >= 10 AND s.netspeed > 0 AND s.deletion_on IS NULL AND s.deleted_at IS NULL
         AND s.disabled_at IS NULL
$$;

-- The servers DNS may hand out: what the DNS server's snapshot is built from.
CREATE VIEW eligible_servers AS
SELECT s.*
FROM servers s
LEFT JOIN accounts a ON a.id = s.owner_id
WHERE server_in_dns(s) AND (a.id IS NULL OR a.disabled_at IS NULL);

-- Carries out the deletions whose date has come; returns how many servers it deleted.
CREATE FUNCTION purge_deleted_servers() RETURNS integer LANGUAGE sql AS $$
  WITH d AS (
    UPDATE servers SET deleted_at = now()
    WHERE deletion_on <= current_date AND deleted_at IS NULL
    RETURNING id
  )
  SELECT count(*)::integer FROM d
$$;
