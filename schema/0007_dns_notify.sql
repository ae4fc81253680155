-- Tells DNS servers (LISTEN timepool_dns) that their snapshot is stale. The payload names the
-- table that changed. Score updates notify only when a server crosses the threshold of 10 (or
-- otherwise enters or leaves DNS), so the every-probe score writes stay quiet.

CREATE FUNCTION notify_dns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('timepool_dns', TG_TABLE_NAME);
  RETURN NULL;
END;
$$;

CREATE FUNCTION servers_notify_dns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF server_in_dns(NEW) THEN PERFORM pg_notify('timepool_dns', 'servers'); END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF server_in_dns(OLD) THEN PERFORM pg_notify('timepool_dns', 'servers'); END IF;
  ELSIF server_in_dns(NEW) IS DISTINCT FROM server_in_dns(OLD)
        OR (server_in_dns(NEW) AND (NEW.netspeed <> OLD.netspeed OR NEW.country <> OLD.country
                                    OR NEW.address <> OLD.address OR NEW.owner_id IS DISTINCT FROM OLD.owner_id)) THEN
    PERFORM pg_notify('timepool_dns', 'servers');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER servers_notify_dns AFTER INSERT OR UPDATE OR DELETE ON servers
  FOR EACH ROW EXECUTE FUNCTION servers_notify_dns();

CREATE TRIGGER zones_notify_dns AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON zones
  FOR EACH STATEMENT EXECUTE FUNCTION notify_dns();
CREATE TRIGGER server_zones_notify_dns AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON server_zones
  FOR EACH STATEMENT EXECUTE FUNCTION notify_dns();

-- A vendor zone is in DNS while it is approved: notify when it enters or leaves that state or
-- changes what it publishes.
CREATE FUNCTION vendor_zones_notify_dns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'approved')
     OR (TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'approved') THEN
    PERFORM pg_notify('timepool_dns', 'vendor_zones');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER vendor_zones_notify_dns AFTER INSERT OR UPDATE OR DELETE ON vendor_zones
  FOR EACH ROW EXECUTE FUNCTION vendor_zones_notify_dns();

-- Disabling an account takes its servers out of DNS (eligible_servers).
CREATE FUNCTION accounts_notify_dns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.disabled_at IS NULL) <> (OLD.disabled_at IS NULL)
     AND EXISTS (SELECT 1 FROM servers s WHERE s.owner_id = NEW.id AND server_in_dns(s)) THEN
    PERFORM pg_notify('timepool_dns', 'accounts');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER accounts_notify_dns AFTER UPDATE OF disabled_at ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_notify_dns();
