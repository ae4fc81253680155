#!/usr/bin/env python3
"""What following a hot standby costs an idle DNS edge: a primary and one standby
(pg_basebackup -R), one timepool-dns reading the standby (polling dns_change every
standby_poll_ms) and, for comparison, one reading the primary (LISTEN/NOTIFY). Over SECONDS of
no changes it reports each edge's CPU (utime+stime from /proc) and the transactions per second
the edge's database sees (pg_stat_database.xact_commit on that node, the test's database only),
then propagation of CHANGES changes to the standby edge (p50/p99), measured with the same code
as integration.replica.propagation (tests/integration/replica/propagation.py). The last line,
`poll_cost: {json}`, is what bench/replica/run.sh collects.

Usage (from a configured build): flock /tmp/timepool-heavy.lock python3 bench/replica/poll_cost.py [SECONDS] [POLL_MS] [CHANGES]
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "dns"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "replica"))
from dnstest import Database, Dns  # noqa: E402
from replica import Replicated, on_primary  # noqa: E402
import propagation  # noqa: E402
from propagation import percentile  # noqa: E402
import psycopg2  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 30
POLL_MS = int(sys.argv[2]) if len(sys.argv) > 2 else 250
CHANGES = int(sys.argv[3]) if len(sys.argv) > 3 else 100
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
    with on_primary(1, Database) as (cluster, db, edges):
        sid = db.add_server("192.0.2.1", "no", 1500)
        db.add_server("192.0.2.2", "no", 1500)
        propagation.wait_replayed(cluster.standbys[0], db.name, 2)
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
        result = {"poll_ms": POLL_MS, "seconds": SECONDS}
        for name, e, ci, cpu0, x0 in rows:
            cpu = cpu_seconds(e.proc.pid) - cpu0
            x = xacts(ci, db.name) - x0 - 1
            print("  edge on %-22s CPU %.3f s = %.2f%% of a core; %.2f transactions/s on its node"
                  % (name, cpu, 100 * cpu / SECONDS, x / SECONDS))
            key = "standby" if e is on_standby else "primary"
            result[key + "_cpu_percent"] = round(100 * cpu / SECONDS, 3)
            result[key + "_xacts_per_s"] = round(x / SECONDS, 2)
        lat = propagation.measure(db, [on_standby], sid, "192.0.2.1", ["192.0.2.2"], CHANGES)
        result.update(changes=CHANGES, p50_s=round(percentile(lat, 50), 3),
                      p99_s=round(percentile(lat, 99), 3), max_s=round(max(lat), 3))
        print("propagation to the standby edge, %d changes: p50 %.3f s, p99 %.3f s, max %.3f s"
              % (CHANGES, result["p50_s"], result["p99_s"], result["max_s"]))
        print("poll_cost: " + json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
