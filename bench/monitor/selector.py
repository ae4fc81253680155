#!/usr/bin/env python3
"""One run of the monitor selector (select_monitors(), schema 0013) at the pool's scale:
50,000 servers and 100 monitors, every monitor with a recent score of every server.

It makes a fresh database on the cluster that the PG* variables name, migrates it with
timepoolctl, adds the servers (addresses in 2,000 /24s), 100 active monitors (each in a /24 of
its own, 50 accounts of two) and one server_scores row per (server, monitor) with a round trip
and an offset, then times select_monitors() three times: the first run (every pair new), a
second (nothing changes: the steady state) and a third after a tenth of the scores changed. It
reports the wall time of each and the CPU time of the PostgreSQL backend that ran it.

  PGHOST=... PGPORT=... PGUSER=postgres /usr/bin/python3 bench/monitor/selector.py BUILD_DIR
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import World, cpu_seconds  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--servers", type=int, default=50000)
    ap.add_argument("--monitors", type=int, default=100)
    args = ap.parse_args()
    with World(args.build, "tp_select") as w:
        db = w.db
        t = time.time()
        w.add_servers(args.servers)
        w.add_accounts((args.monitors + 1) // 2)
        w.add_monitors(args.monitors, per_account=2)
        w.sql("INSERT INTO server_scores (server_id, monitor_id, score, offset_s, rtt_s, updated_at) "
              "SELECT s.id, m.id, 15, (random() - 0.5) * 0.004 + CASE WHEN m.id % 10 = 0 THEN 0.05 ELSE 0 END, "
              "0.005 + random() * 0.2, now() FROM servers s CROSS JOIN monitors m")
        w.sql("ANALYZE")
        pairs = int(w.sql("SELECT count(*) FROM server_scores"))
        print("servers %d, monitors %d, %d scored pairs (set up in %.0f s)" %
              (args.servers, args.monitors, pairs, time.time() - t))
        import psycopg2  # Debian's python3-psycopg2 (run with /usr/bin/python3)
        conn = psycopg2.connect(dbname=db)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
        for label, before in (("first run (every pair new)", None),
                              ("second run (steady state)", None),
                              ("after 10% of the round trips changed",
                               "UPDATE server_scores SET rtt_s = rtt_s * 2 "
                               "WHERE (server_id + monitor_id) % 10 = 0")):
            if before:
                w.sql(before)
            cpu0, t0 = cpu_seconds(backend), time.time()
            cur.execute("SELECT select_monitors()")
            changed = cur.fetchone()[0]
            wall, cpu = time.time() - t0, cpu_seconds(backend) - cpu0
            cur.execute("SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM "
                        "(SELECT status, count(*) n FROM server_monitors GROUP BY status) x")
            print("%s: %.2f s wall, %.2f s CPU of its backend; %d pairs changed (%s)" %
                  (label, wall, cpu, changed, cur.fetchone()[0]))
        conn.close()


if __name__ == "__main__":
    main()
