#!/usr/bin/env python3
"""What following a hot standby costs an idle DNS edge: a primary and one standby
(pg_basebackup -R), one timepool-dns reading the standby (polling dns_change every
standby_poll_ms) and, for comparison, one reading the primary (LISTEN/NOTIFY). Over SECONDS of
no changes it reports each edge's CPU (utime+stime from /proc) and the transactions per second
the edge's database sees (pg_stat_database.xact_commit on that node, the test's database only),
then propagation of 50 changes to the standby edge (p50/p99).

Usage (from a configured build): flock /tmp/timepool-heavy.lock python3 bench/replica/poll_cost.py [SECONDS] [POLL_MS]
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "dns"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "replica"))
from dnstest import Database, Dns  # noqa: E402
from replica import Replicated  # noqa: E402
import psycopg2  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 30
POLL_MS = int(sys.argv[2]) if len(sys.argv) > 2 else 250
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def xacts(conninfo, dbname):
    c = psycopg2.connect(conninfo)
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                    (dbname,))
        n = cur.fetchone()[0]
    c.close()
    return n


def main():
    cluster = Replicated(standbys=1)
    db = None
    edges = []
    try:
        db = Database(env=cluster.primary.env())
        sid = db.add_server("192.0.2.1", "no", 1500)
        db.add_server("192.0.2.2", "no", 1500)
        time.sleep(1)
        standby = Replicated.conninfo(cluster.standbys[0], db.name)
        primary = Replicated.conninfo(cluster.primary, db.name)
        common = ["--set", "dns.rebuild_interval=3600", "--set", "dns.standby_poll_ms=%d" % POLL_MS,
                  "--set", "log.level=info"]
        on_standby = Dns(standby, common)
        on_primary = Dns(primary, common)
        edges = [on_standby, on_primary]
        time.sleep(2)
        # The measuring connections are transactions too: take them once before and once after
        # on each node (2 each, subtracted below).
        rows = []
        for name, e, ci in (("standby (poll %d ms)" % POLL_MS, on_standby, standby),
                            ("primary (LISTEN)", on_primary, primary)):
            rows.append([name, e, ci, cpu_seconds(e.proc.pid), xacts(ci, db.name)])
        time.sleep(SECONDS)
        print("idle for %.0f s, no changes:" % SECONDS)
        for name, e, ci, cpu0, x0 in rows:
            cpu = cpu_seconds(e.proc.pid) - cpu0
            x = xacts(ci, db.name) - x0 - 1
            print("  edge on %-22s CPU %.3f s = %.2f%% of a core; %.2f transactions/s on its node"
                  % (name, cpu, 100 * cpu / SECONDS, x / SECONDS))
        lat = []
        for i in range(50):
            out = i % 2 == 0
            db.sql("UPDATE servers SET score = %s WHERE id = %s", (5 if out else 15, sid))
            t0 = time.monotonic()
            want = {"192.0.2.2"} if out else {"192.0.2.1", "192.0.2.2"}
            while set(on_standby.addresses("no.pool.example")) != want:
                if time.monotonic() - t0 > 10:
                    raise SystemExit("change not propagated in 10 s")
                time.sleep(0.005)
            lat.append(time.monotonic() - t0)
        lat.sort()
        print("propagation to the standby edge, 50 changes: p50 %.3f s, p99 %.3f s, max %.3f s"
              % (lat[len(lat) // 2], lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))],
                 lat[-1]))
    finally:
        for e in edges:
            e.close()
        if db:
            db.close()
        cluster.close()


if __name__ == "__main__":
    main()
