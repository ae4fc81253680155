#!/usr/bin/env python3
"""The central side of monitoring under the pool's steady load: timepool-monitor-api applying
raw results for 50,000 servers x 7 monitors on a 9-minute cycle (about 650 results/s).

It makes a fresh database on the cluster that the PG* variables name, migrates it with
timepoolctl, adds the servers and 7 active monitors, starts timepool-monitor-api (plain HTTP on
loopback, as the timepool_monitor role) and lets 7 client threads, one per monitor, submit one
batch a second each (93 results, 3 packets each, the way timepool-monitor sends them) for
--seconds. It reports the results applied per second and the CPU time of the API process and
of the PostgreSQL backends serving it, as a share of one core.

  PGHOST=... PGPORT=... PGUSER=postgres python3 bench/monitor/ingest.py BUILD_DIR [--seconds 60]
"""
import argparse
import json
import os
import random
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.request

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
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--servers", type=int, default=50000)
    ap.add_argument("--monitors", type=int, default=7)
    ap.add_argument("--cycle-s", type=int, default=540)
    args = ap.parse_args()
    ctl = os.path.join(args.build, "ctl", "timepoolctl")
    api_bin = os.path.join(args.build, "monitor", "timepool-monitor-api")
    db = "tp_ingest_" + secrets.token_hex(4)
    subprocess.run(["createdb", db], check=True)
    user = "tp_ingest_" + secrets.token_hex(4)
    api = None
    try:
        subprocess.run([ctl, "--set", "database.conninfo=dbname=" + db, "--set", "log.level=warn",
                        "migrate"], check=True, capture_output=True)
        psql(db, "INSERT INTO servers (address, country) SELECT ('10.' || (i / 65536) || '.' || "
                 "((i / 256) %% 256) || '.' || (i %% 256))::inet, 'de' FROM generate_series(1, %d) i"
             % args.servers)
        keys = []
        for m in range(args.monitors):
            out = subprocess.run([ctl, "--set", "database.conninfo=dbname=" + db, "monitor", "add",
                                  "bench%d" % m, "--status", "active"],
                                 check=True, capture_output=True, text=True).stdout
            keys.append(re.search(r"key: ([0-9a-f]+)", out).group(1))
        psql(db, "CREATE ROLE %s LOGIN IN ROLE timepool_monitor" % user)
        log = open("/tmp/%s-api.log" % db, "w")
        api = subprocess.Popen([api_bin, "--set", "database.conninfo=dbname=%s user=%s" % (db, user),
                                "--set", "monitor_api.listen=127.0.0.1:0",
                                "--set", "monitor_api.plain_http=true",
                                "--set", "monitor_api.metrics_listen=", "--set", "log.level=info"],
                               stdout=log, stderr=subprocess.STDOUT)
        port = None
        for _ in range(100):
            m = re.search(r"monitor API on http://127\.0\.0\.1:(\d+)", open(log.name).read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.1)
        if not port:
            sys.exit("the API did not start: " + open(log.name).read())
        url = "http://127.0.0.1:%d/v1/results" % port
        ids = [int(x) for x in psql(db, "SELECT id FROM servers ORDER BY id").split()]
        per_s = args.servers * args.monitors / args.cycle_s
        per_monitor = max(1, round(per_s / args.monitors))
        applied = [0] * args.monitors
        errors = []
        stop = threading.Event()

        def client(m):
            rng = random.Random(m)
            seq = 0
            start = time.time()
            while not stop.is_set():
                seq += 1
                now_us = int(time.time() * 1e6)
                results = []
                for _ in range(per_monitor):
                    results.append({
                        "server_id": rng.choice(ids), "started_us": now_us - rng.randint(0, 900000),
                        "clock": {"synchronized": True, "est_error_s": 0.0001, "max_error_s": 0.002},
                        "packets": [{"kind": "reply", "stratum": 2, "leap": 0, "version": 4,
                                     "refid": "7f000001", "offset_s": rng.gauss(0, 0.002),
                                     "delay_s": abs(rng.gauss(0.02, 0.005))} for _ in range(3)]})
                body = json.dumps({"batch_id": "b%d-%d" % (m, seq), "results": results}).encode()
                req = urllib.request.Request(url, data=body, method="POST", headers={
                    "Authorization": "Bearer " + keys[m], "Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        applied[m] += json.loads(r.read())["scored"]
                except Exception as e:  # noqa: BLE001
                    errors.append(str(e))
                next_at = start + seq
                time.sleep(max(0, next_at - time.time()))

        pg_pids = lambda: [int(p) for p in subprocess.run(  # noqa: E731
            ["pgrep", "-f", "postgres: .*%s" % user], capture_output=True, text=True).stdout.split()]
        threads = [threading.Thread(target=client, args=(m,)) for m in range(args.monitors)]
        for t in threads:
            t.start()
        time.sleep(5)  # warm up: connections, caches
        a0, t0 = sum(applied), time.time()
        api_cpu0 = cpu_seconds(api.pid)
        pg0 = {p: cpu_seconds(p) for p in pg_pids()}
        time.sleep(args.seconds)
        a1, t1 = sum(applied), time.time()
        api_cpu1 = cpu_seconds(api.pid)
        pg_cpu = sum(cpu_seconds(p) - pg0.get(p, 0) for p in pg_pids())
        stop.set()
        for t in threads:
            t.join()
        wall = t1 - t0
        print("servers %d x monitors %d on a %d s cycle: %.0f results/s offered" %
              (args.servers, args.monitors, args.cycle_s, per_monitor * args.monitors))
        print("applied %.0f results/s over %.0f s (%d errors)" % ((a1 - a0) / wall, wall, len(errors)))
        print("timepool-monitor-api CPU: %.1f%% of one core; its PostgreSQL backends: %.1f%%; "
              "together %.1f%%" % (100 * (api_cpu1 - api_cpu0) / wall, 100 * pg_cpu / wall,
                                   100 * (api_cpu1 - api_cpu0 + pg_cpu) / wall))
        if errors:
            print("first error:", errors[0])
    finally:
        if api:
            api.terminate()
            api.wait()
        subprocess.run(["dropdb", "--force", "--if-exists", db], capture_output=True)
        subprocess.run(["psql", "-X", "-q", "-c", "DROP ROLE IF EXISTS %s" % user], capture_output=True)


if __name__ == "__main__":
    main()
