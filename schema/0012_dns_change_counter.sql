-- A change counter for DNS servers that read a streaming replica: LISTEN does not work on a hot
-- standby and NOTIFY is not replicated, but a row is. Every trigger that notifies
-- `timepool_dns` (0007) now also bumps dns_change.counter in the same transaction, so a server
-- on a standby polls `SELECT counter FROM dns_change` (one row, a few hundred bytes of work)
-- and rebuilds when the value it last saw has moved. A sequence would not do: nextval() is
-- WAL-logged only every 32 values, so a standby would miss most steps.
--
-- Concurrent transactions that change DNS answers serialize on this row until they commit;
-- those are rare (an admin, a volunteer, a score crossing 10), never the every-probe writes.

CREATE TABLE dns_change (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  counter bigint NOT NULL,
  changed_at timestamptz NOT NULL
);
INSERT INTO dns_change VALUES (true, 0, now());

CREATE FUNCTION dns_changed(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('timepool_dns', what);
  UPDATE dns_change SET counter = counter + 1, changed_at = now() WHERE id;
END;
$$;

CREATE OR REPLACE FUNCTION notify_dns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM dns_changed(TG_TABLE_NAME);
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION servers_notify_dns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF server_in_dns(NEW) THEN PERFORM dns_changed('servers'); END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF server_in_dns(OLD) THEN PERFORM dns_changed('servers'); END IF;
  ELSIF server_in_dns(NEW) IS DISTINCT FROM server_in_dns(OLD)
        OR (server_in_dns(NEW) AND (NEW.netspeed <> OLD.netspeed OR NEW.country <> OLD.country
                                    OR NEW.address <> OLD.address OR NEW.owner_id IS DISTINCT FROM OLD.owner_id)) THEN
    PERFORM dns_changed('servers');
  END IF;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION vendor_zones_notify_dns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'approved')
     OR (TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'approved') THEN
    PERFORM dns_changed('vendor_zones');
  END IF;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION accounts_notify_dns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.disabled_at IS NULL) <> (OLD.disabled_at IS NULL)
     AND EXISTS (SELECT 1 FROM servers s WHERE s.owner_id = NEW.id AND server_in_dns(s)) THEN
    PERFORM dns_changed('accounts');
  END IF;
  RETURN NULL;
END;
$$;
