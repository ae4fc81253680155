-- Vendor zone requests. When an admin approves one, a zone of kind 'vendor' is made under the
-- global zone and zone_id points at it; the DNS server then answers <name>.<apex> (sntp),
-- 0-3.<name>.<apex> (ntp), or both, like the global zone.

CREATE TABLE vendor_zones (
  id                 bigserial PRIMARY KEY,
  name               text NOT NULL
                     CHECK (length(name) BETWEEN 4 AND 40 AND name ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'),
  account_id         bigint REFERENCES accounts (id) ON DELETE SET NULL,
  organization       text NOT NULL CHECK (length(organization) BETWEEN 1 AND 200),
  contact            text NOT NULL CHECK (length(contact) BETWEEN 1 AND 200),
  device_description text NOT NULL DEFAULT '' CHECK (length(device_description) <= 2000),
  device_count       integer NOT NULL CHECK (device_count BETWEEN 500 AND 100000000),
  client_type        text NOT NULL CHECK (client_type IN ('ntp', 'sntp', 'both')),
  poll_description   text NOT NULL DEFAULT '' CHECK (length(poll_description) <= 2000),
  open_source        boolean NOT NULL DEFAULT false,
  -- new: just filed; pending: an admin is looking at it; approved / rejected: decided.
  status             text NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new', 'pending', 'approved', 'rejected')),
  zone_id            integer REFERENCES zones (id),
  decided_by         bigint REFERENCES accounts (id) ON DELETE SET NULL,
  decided_at         timestamptz,
  decision_reason    text CHECK (length(decision_reason) <= 2000),
  created_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'approved') = (zone_id IS NOT NULL)),
  CHECK ((status IN ('approved', 'rejected')) = (decided_at IS NOT NULL))
);
-- A name is taken by any request that was not rejected.
CREATE UNIQUE INDEX vendor_zones_name_key ON vendor_zones (name) WHERE status <> 'rejected';
CREATE INDEX vendor_zones_account_idx ON vendor_zones (account_id);
CREATE INDEX vendor_zones_status_idx ON vendor_zones (status, created_at);

-- A vendor name may not be the name of a country, continent or other non-vendor zone.
CREATE FUNCTION vendor_zones_check_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM zones WHERE name = NEW.name AND kind <> 'vendor') THEN
    RAISE EXCEPTION 'vendor zone name "%" is taken by a pool zone', NEW.name
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER vendor_zones_check_name BEFORE INSERT OR UPDATE OF name ON vendor_zones
  FOR EACH ROW EXECUTE FUNCTION vendor_zones_check_name();
