"""Query statistics of timepool-dns: counts per zone/qtype/rcode and per server handed out reach
dns_query_counts and dns_server_answers by the periodic flush and at shutdown, and two DNS
servers' counts add up exactly."""
import time

from geotest import Database, Dns, addrs, check, ecs_query


def totals(db, zid):
    rows = db.sql("SELECT qtype, rcode, sum(count)::bigint FROM dns_query_counts "
                  "WHERE zone_id = %s GROUP BY 1, 2", (zid,))
    return {(q, r): c for q, r, c in rows}


def main():
    db = Database()
    a = b = None
    try:
        ids = {}
        for i in range(5):
            addr = "192.0.2.%d" % (i + 1)
            ids[addr] = db.add_server(addr, "de", 1500)
        zid = db.approve_vendor("statco", "both")
        common = ["--set", "dns.stats_flush_interval=1"]
        a = Dns(db.conninfo(), common + ["--set", "dns.stats_instance=dns-a"])
        b = Dns(db.conninfo(), common + ["--set", "dns.stats_instance=dns-b"])
        handed = {}

        def ask(srv, n, name="statco.pool.example", rdtype="A"):
            for _ in range(n):
                r = ecs_query(srv, name, None, rdtype=rdtype)
                for x in addrs(r):
                    handed[x] = handed.get(x, 0) + 1

        ask(a, 30)
        ask(b, 20)
        ask(a, 5, rdtype="AAAA")            # NODATA, counted as qtype 28 rcode 0
        ask(b, 3, name="2.statco.pool.example", rdtype="TXT")
        # The periodic flush: the minute is written once it has ended (plus a few seconds).
        start = time.time()
        while time.time() - start < 90 and not totals(db, zid):
            time.sleep(1)
        check(totals(db, zid), "periodic flush wrote rows within %.0f s" % (time.time() - start))
        ask(a, 7)
        ask(b, 4)
        m = a.metrics()
        check("timepool_dns_stats_batches_written_total" in m and
              "timepool_dns_stats_batches_queued 0" in m, "statistics metrics on /metrics")
        a.close()
        b.close()
        a = b = None

        t = totals(db, zid)
        check(t.get((1, 0)) == 61, "A queries of both servers add up: %s" % t.get((1, 0)))
        check(t.get((28, 0)) == 5, "AAAA NODATA counted as qtype 28 rcode 0")
        check(t.get((16, 0)) == 3, "TXT NODATA counted as qtype 16")
        got = {}
        for sid, c in db.sql("SELECT server_id, sum(count)::bigint FROM dns_server_answers "
                             "GROUP BY 1"):
            got[sid] = c
        want = {ids[x]: c for x, c in handed.items()}
        check(got == want, "every server handed out is counted exactly: %s" % got)
        inst = [r[0] for r in db.sql("SELECT DISTINCT split_part(instance_id, '/', 1) "
                                     "FROM dns_stats_flushes ORDER BY 1")]
        check(inst == ["dns-a", "dns-b"], "flushes recorded for both instances: %s" % inst)
    finally:
        for s in (a, b):
            if s:
                s.close()
        db.close()
    print("all stats checks passed")


if __name__ == "__main__":
    main()
