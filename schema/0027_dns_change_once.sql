-- dns_changed() bumps the change counter once per transaction instead of once per changed row.
--
-- Every row trigger that changes DNS answers calls it, and so does the statement trigger on
-- server_zones, which runs once for each server a statement adds (servers_sync_zones writes
-- its memberships one statement per server). Updating the one row of dns_change again and
-- again in one transaction leaves a chain of versions that every next update walks, so a bulk
-- write of n servers (an import, refresh_pool_score() moving many servers across 10) took
-- time in n squared: 100,000 servers did not load in 20 minutes. One bump per transaction says
-- the same to a standby (the counter moves when the transaction commits, with all its rows);
-- NOTIFY is unchanged (PostgreSQL folds equal notifications of one transaction anyway).
-- A rolled back subtransaction takes its bump and its marker back together.
CREATE OR REPLACE FUNCTION dns_changed(what text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  xact text := pg_current_xact_id()::text;
BEGIN
  PERFORM pg_notify('timepool_dns', what);
  IF current_setting('timepool.dns_changed_in', true) IS DISTINCT FROM xact THEN
    PERFORM set_config('timepool.dns_changed_in', xact, true);
    UPDATE dns_change SET counter = counter + 1, changed_at = now() WHERE id;
  END IF;
END;
$$;
