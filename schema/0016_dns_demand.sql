-- Demand for the balancer (server/balancer.hpp, server/demand.hpp): DNS queries per minute per
-- client origin and address family, all DNS servers added up like dns_query_counts
-- (INSERT ... ON CONFLICT DO UPDATE SET count = count + ...).
--
-- zone_id is the zone the queries count for: the client's country zone for geo-routed names
-- (the global name, its numbered labels, vendor zones) located by EDNS Client Subnet or the
-- resolver's address, the zone itself for explicit country and continent names, and the global
-- zone for clients that could not be located. family is the address family asked for (4: A,
-- 6: AAAA), since the balancer runs once per family.
--
-- Every DNS server reads the sums over its balancer window (dns.balancer_window) and computes
-- the same mixtures from them; nothing else is written back.
CREATE TABLE dns_demand (
  minute  timestamptz NOT NULL CHECK (date_trunc('minute', minute) = minute),
  zone_id integer NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  family  smallint NOT NULL CHECK (family IN (4, 6)),
  count   bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (zone_id, family, minute)
);
CREATE INDEX dns_demand_minute_idx ON dns_demand (minute);

GRANT SELECT, INSERT, UPDATE ON dns_demand TO timepool_dns;
GRANT SELECT, DELETE ON dns_demand TO timepool_web;
