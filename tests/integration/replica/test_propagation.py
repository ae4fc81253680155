"""Edges reading hot standbys follow the primary within 2 s: a primary, two streaming standbys
(pg_basebackup -R), three timepool-dns edges (two on the first standby, one on the second),
each with the timer rebuild set to an hour, so only the change counter polled on the standby
(schema/0012) can bring a change. 100 changes alternately take a server out of DNS and bring
it back (plus a newly approved vendor zone); for each, the time from the primary's COMMIT to
the changed answer on every edge is measured; p99 must stay under 2 s."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dns"))
from dnstest import Database, Dns, check, fail  # noqa: E402
from replica import Replicated, on_primary  # noqa: E402
import propagation  # noqa: E402
from propagation import percentile  # noqa: E402

CHANGES = 100
LIMIT = 2.0


def main():
    with on_primary(2, Database) as (cluster, db, edges):
        a = db.add_server("192.0.2.1", "no", 1500)
        db.add_server("192.0.2.2", "no", 1500)
        targets = [cluster.standbys[0], cluster.standbys[0], cluster.standbys[1]]
        # The standbys replay the migration and the rows before the edges start.
        for n in cluster.standbys:
            try:
                propagation.wait_replayed(n, db.name, 2)
            except AssertionError as e:
                fail(str(e))
        for n in targets:
            edges.append(Dns(Replicated.conninfo(n, db.name),
                             ["--set", "dns.rebuild_interval=3600",
                              "--set", "dns.standby_poll_ms=250"]))
        for e in edges:
            check("database is a standby: no NOTIFY there, reading the change counter" in
                  e.log_text(), "edge on port %d knows it reads a standby" % e.port)
            check(set(e.addresses("no.pool.example")) == {"192.0.2.1", "192.0.2.2"},
                  "edge on port %d answers both servers" % e.port)

        # A new vendor zone reaches every edge.
        db.approve_vendor("replvendor", "ntp")
        t0 = time.monotonic()
        for e in edges:
            e.wait_for(lambda: len(e.addresses("0.replvendor.pool.example")) > 0, LIMIT,
                       "vendor zone on edge %d" % e.port)
        check(True, "a new vendor zone answers on all edges after %.2f s" % (time.monotonic() - t0))

        # The counter moves with what changes answers, not with every score write.
        before = db.one("SELECT counter FROM dns_change")
        db.sql("UPDATE servers SET score = 16 WHERE address = '192.0.2.2'")
        check(db.one("SELECT counter FROM dns_change") == before,
              "a score write that keeps the server in DNS leaves the counter alone")
        db.sql("UPDATE servers SET score = 5 WHERE address = '192.0.2.2'")
        db.sql("UPDATE servers SET score = 15 WHERE address = '192.0.2.2'")
        check(db.one("SELECT counter FROM dns_change") == before + 2,
              "leaving and re-entering DNS each move the counter")

        try:
            latencies = propagation.measure(db, edges, a, "192.0.2.1", ["192.0.2.2"], CHANGES)
        except AssertionError as e:
            fail(str(e))
        p50 = percentile(latencies, 50)
        p99 = percentile(latencies, 99)
        print("propagation over %d changes x %d edges: p50 %.3f s, p99 %.3f s, max %.3f s"
              % (CHANGES, len(edges), p50, p99, max(latencies)))
        check(len(latencies) == CHANGES * len(edges), "every edge saw every change")
        check(p99 < LIMIT, "p99 %.3f s under %.1f s" % (p99, LIMIT))
        for e in edges:
            m = e.metrics()
            polls = [l for l in m.splitlines() if l.startswith("timepool_dns_change_polls_total")]
            check(polls and int(float(polls[0].split()[-1])) > 0,
                  "edge %d counts its polls (%s)" % (e.port, polls))


if __name__ == "__main__":
    main()
