"""Demand measured (issue 13, item 1): timepool-dns counts the address queries it answers per
client country and family for the geo-routed names, and per zone for explicit names, writes them
to dns_demand with its query statistics (exactly once per flush), and the balancer then mixes
from that demand. No demand row is written by the test.

The world (as in test_balancer): lu has 3 servers of 512 kbit/s, de 10 of 25,000, us 12 of
100,000. Real queries with EDNS Client Subnet addresses in lu and de:
1. dns_demand holds exactly the queries sent: A for the global name, its numbered labels and a
   vendor zone by client country, AAAA at 2. as family 6, an explicit name (us) for itself;
   AAAA at a label without AAAA, TXT and the debug name are not demand;
2. a second DNS server started on the same database reads that demand: lu's clients get a
   mixture (mostly global, lu's 3 small servers cannot carry them) and de's stay in de.
"""
from geotest import Database, Dns, address_in, check, ecs_query, ranges_v4
from test_balancer import add_world, debug_text, fast_ecs_queries, parse_mixture

N_LU, N_LU_1, N_LU_VENDOR, N_DE, N_DE_AAAA, N_US = 2400, 300, 300, 150, 40, 60


def demand(db):
    rows = db.sql("SELECT z.name, d.family, sum(d.count)::bigint FROM dns_demand d "
                  "JOIN zones z ON z.id = d.zone_id GROUP BY 1, 2 ORDER BY 1, 2")
    return {(name, family): count for name, family, count in rows}


def main():
    ranges = ranges_v4()
    db = Database()
    srv = srv2 = None
    try:
        add_world(db)
        db.approve_vendor("demandco", "both")
        common = ["--set", "dns.geo_min_servers=3", "--set", "dns.balancer_interval=1",
                  "--set", "dns.stats_flush_interval=1"]
        srv = Dns(db.conninfo(), common + ["--set", "dns.stats_instance=dns-a"])
        lu_client = address_in(ranges, "lu")[0]
        de_client = address_in(ranges, "de")[0]
        check("mixture" not in debug_text(srv, lu_client), "no demand yet: no mixture")

        fast_ecs_queries(srv.port, "pool.example", lu_client, N_LU)
        fast_ecs_queries(srv.port, "1.pool.example", lu_client, N_LU_1)
        fast_ecs_queries(srv.port, "demandco.pool.example", lu_client, N_LU_VENDOR)
        fast_ecs_queries(srv.port, "pool.example", de_client, N_DE)
        fast_ecs_queries(srv.port, "us.pool.example", lu_client, N_US)
        for _ in range(N_DE_AAAA):
            ecs_query(srv, "2.pool.example", de_client, rdtype="AAAA")
        # Not demand: no AAAA at 1., other types.
        for _ in range(7):
            ecs_query(srv, "1.pool.example", de_client, rdtype="AAAA")
            ecs_query(srv, "pool.example", de_client, rdtype="TXT")
        # Stopping writes everything counted (the periodic flush writes ended minutes).
        srv.stop()
        got = demand(db)
        want = {("lu", 4): N_LU + N_LU_1 + N_LU_VENDOR, ("de", 4): N_DE, ("de", 6): N_DE_AAAA,
                ("us", 4): N_US}
        check(got == want, "dns_demand holds exactly the queries sent: %s" % got)
        flushes = db.sql("SELECT count(*) FROM dns_stats_flushes")[0][0]
        check(flushes >= 1, "written with the statistics flushes (%d)" % flushes)

        # Another DNS server on the same database: its balancer mixes by the measured demand.
        srv2 = Dns(db.conninfo(), common + ["--set", "dns.stats_instance=dns-b"])
        srv2.wait_for(lambda: "mixture" in debug_text(srv2, lu_client), 20,
                      "a mixture for lu from the measured demand")
        mix = parse_mixture(debug_text(srv2, lu_client))
        check(mix.get("@", 0) > 0.5 and mix.get("lu", 0) < 0.05,
              "lu's clients: mostly global, hardly lu's own small servers (%s)" % mix)
        de_text = debug_text(srv2, de_client)
        check(parse_mixture(de_text).get("de", 0) > 0.999, "de's clients stay in de (%s)" % de_text)
        answers = fast_ecs_queries(srv2.port, "pool.example", lu_client, 400)
        outside = sum(1 for a in answers if not a[0].startswith("203.0.113."))
        check(outside > 300, "lu's clients mostly get servers outside lu: %d of 400" % outside)
        print("ok: demand %s, lu's mixture %s" % (got, mix))
    finally:
        for s in (srv, srv2):
            if s:
                s.close()
        db.close()


if __name__ == "__main__":
    main()
