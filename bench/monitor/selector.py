#!/usr/bin/env python3
"""Runs of the monitor selector (select_monitors(), schema 0013 and 0028) at the pool's scale:
50,000 servers and 100 monitors (each in a /24 of its own, 50 accounts of two).

The selector keeps a bounded set of pairs per server (5 active, 3 testing, up to 4 candidates by
default) and monitors with an address probe only their pairs, so the world here is the one the
selector itself produces: scores exist only for paired (server, monitor)s, never for all
5,000,000 combinations. It times these runs, each with the wall time and the CPU time of the
PostgreSQL backend that ran it:

1. first run: no server has pairs yet (a new deployment): the run reviews review_batch servers,
   adds their first candidates and makes the measured ones testing;
2. steady state: every server has its full set, scores for every pair, and its next review
   spread over the review interval; nothing is due;
3. one run's share: 1/20 of the servers due (the default 20-minute review interval with the
   web's 60-second upkeep), a tenth of all round trips doubled since their last review;
4. a tenth changed: a tenth of the servers due, a tenth of the round trips doubled again; one
   run reviews review_batch of them, the run after it the rest (both timed).

The steady world is seeded in bulk the way the selector leaves it (each server's 12 pairs in the
ranking the selector gives them), with foreign-key triggers off while seeding, then vacuumed as
autovacuum would.

  PGHOST=... PGPORT=... PGUSER=postgres /usr/bin/python3 bench/monitor/selector.py BUILD_DIR
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import World, cpu_seconds  # noqa: E402

# Each server's pairs: monitor 1 + (id * 7 + k * 13) % monitors for k = 0..11 (distinct, never
# two of one account), status by k, round trips rising with k so the seeded statuses are the
# selector's own ranking.
PAIR = "FROM servers s, generate_series(0, {pairs} - 1) k"
MONITOR = "1 + ((s.id * 7 + k * 13) % {m})"
SEED_PAIRS = """
SET session_replication_role = replica;
INSERT INTO server_monitors (server_id, monitor_id, status, changed_at)
SELECT s.id, """ + MONITOR + """,
       CASE WHEN k < {a} THEN 'active' WHEN k < {a} + {t} THEN 'testing' ELSE 'candidate' END,
       now() - interval '1 hour'
""" + PAIR + """;
INSERT INTO server_scores (server_id, monitor_id, score, offset_s, rtt_s, updated_at)
SELECT s.id, """ + MONITOR + """, 15, (random() - 0.5) * 0.004,
       0.005 + 0.01 * k + random() * 0.002, now()
""" + PAIR + """;
INSERT INTO server_selection (server_id, reviewed_at, next_review)
SELECT id, now() - interval '5 minutes', now() + interval '1 minute' + random() * interval '20 minutes'
FROM servers;
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--servers", type=int, default=50000)
    ap.add_argument("--monitors", type=int, default=100)
    args = ap.parse_args()
    with World(args.build, "tp_select") as w:
        t = time.time()
        w.add_servers(args.servers)
        w.add_accounts((args.monitors + 1) // 2)
        w.add_monitors(args.monitors, per_account=2)
        w.sql("ANALYZE")
        cfg = w.sql("SELECT active_monitors || ' ' || testing_monitors || ' ' || candidate_monitors "
                    "|| ' ' || review_batch FROM monitoring_settings").split()
        a, tst, c, batch = (int(x) for x in cfg)
        print("servers %d, monitors %d; %d active, %d testing, %d candidates per server, "
              "at most %d servers reviewed per run (set up in %.0f s)" %
              (args.servers, args.monitors, a, tst, c, batch, time.time() - t))
        import psycopg2  # Debian's python3-psycopg2 (run with /usr/bin/python3)
        conn = psycopg2.connect(dbname=w.db)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]

        def run(label):
            cur.execute("SELECT clock_timestamp()")
            start = cur.fetchone()[0]
            cpu0, t0 = cpu_seconds(backend), time.time()
            cur.execute("SELECT select_monitors()")
            changed = cur.fetchone()[0]
            wall, cpu = time.time() - t0, cpu_seconds(backend) - cpu0
            cur.execute("SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM "
                        "(SELECT status, count(*) n FROM server_monitors GROUP BY status) x")
            pairs = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM server_selection WHERE reviewed_at >= %s", (start,))
            print("%s: %.2f s wall, %.2f s CPU of its backend; %d servers reviewed, %d pairs "
                  "changed (%s)" % (label, wall, cpu, cur.fetchone()[0], changed, pairs))

        run("first run (no server has pairs yet)")

        t = time.time()
        w.sql("TRUNCATE server_monitors, server_selection")
        w.sql("DELETE FROM server_scores")
        w.sql(SEED_PAIRS.format(m=args.monitors, a=a, t=tst, pairs=a + tst + c))
        w.sql("VACUUM ANALYZE")
        print("seeded the steady world: %s pairs with scores (%.0f s)" %
              (w.sql("SELECT count(*) FROM server_scores"), time.time() - t))
        run("steady state (nothing due)")

        def due(fraction, label):
            w.sql("UPDATE server_scores SET rtt_s = rtt_s * 2, updated_at = now() "
                  "WHERE (server_id + monitor_id) % 10 = 0")
            w.sql("UPDATE server_selection SET next_review = now() - interval '1 second' "
                  "WHERE server_id IN (SELECT server_id FROM server_selection "
                  "WHERE next_review > now() ORDER BY random() LIMIT %d)" % (args.servers // fraction))
            run(label)

        due(20, "one run's share (1/20 of the servers due, a tenth of the round trips doubled)")
        due(10, "a tenth changed (a tenth of the servers due, a tenth of the round trips doubled)")
        run("the run after it")
        conn.close()


if __name__ == "__main__":
    main()
