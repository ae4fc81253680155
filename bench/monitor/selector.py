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
import secrets
import subprocess
import time


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def psql(db, sql):
    return subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--servers", type=int, default=50000)
    ap.add_argument("--monitors", type=int, default=100)
    args = ap.parse_args()
    ctl = os.path.join(args.build, "ctl", "timepoolctl")
    db = "tp_select_" + secrets.token_hex(4)
    subprocess.run(["createdb", db], check=True)
    try:
        subprocess.run([ctl, "--set", "database.conninfo=dbname=" + db, "--set", "log.level=warn",
                        "migrate"], check=True, capture_output=True)
        t = time.time()
        psql(db, "INSERT INTO servers (address, country) SELECT ('10.' || (i / 6400) || '.' || "
                 "((i / 25) %% 256) || '.' || (i %% 25 + 1))::inet, 'de' "
                 "FROM generate_series(1, %d) i" % args.servers)
        psql(db, "INSERT INTO accounts (email, password_hash, role) SELECT 'mon' || a || '@example.org', "
                 "'x', 'volunteer' FROM generate_series(1, %d) a" % ((args.monitors + 1) // 2))
        psql(db, "INSERT INTO monitors (name, key_hash, status, address, account_id) "
                 "SELECT 'm' || i, md5(i::text), 'active', ('198.18.' || i || '.1')::inet, "
                 "(SELECT id FROM accounts WHERE email = 'mon' || ((i + 1) / 2) || '@example.org') "
                 "FROM generate_series(1, %d) i" % args.monitors)
        psql(db, "INSERT INTO server_scores (server_id, monitor_id, score, offset_s, rtt_s, updated_at) "
                 "SELECT s.id, m.id, 15, (random() - 0.5) * 0.004 + CASE WHEN m.id % 10 = 0 THEN 0.05 ELSE 0 END, "
                 "0.005 + random() * 0.2, now() FROM servers s CROSS JOIN monitors m")
        psql(db, "ANALYZE")
        pairs = int(psql(db, "SELECT count(*) FROM server_scores"))
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
                psql(db, before)
            cpu0, t0 = cpu_seconds(backend), time.time()
            cur.execute("SELECT select_monitors()")
            changed = cur.fetchone()[0]
            wall, cpu = time.time() - t0, cpu_seconds(backend) - cpu0
            cur.execute("SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM "
                        "(SELECT status, count(*) n FROM server_monitors GROUP BY status) x")
            print("%s: %.2f s wall, %.2f s CPU of its backend; %d pairs changed (%s)" %
                  (label, wall, cpu, changed, cur.fetchone()[0]))
        conn.close()
    finally:
        subprocess.run(["dropdb", "--force", "--if-exists", db], capture_output=True)


if __name__ == "__main__":
    main()
