#!/usr/bin/env python3
"""The central side of monitoring under the pool's steady load: timepool-monitor-api applying
raw results for 50,000 servers x 7 monitors on a 9-minute cycle (about 650 results/s).

It makes a fresh database on the cluster that the PG* variables name (world.py: migrated with
timepoolctl, servers and 7 active monitors added in bulk), starts timepool-monitor-api (plain
HTTP on loopback, as a login role in timepool_monitor) and lets 7 client threads, one per
monitor, submit one batch a second each (93 results, 3 packets each, the way timepool-monitor
sends them) for --seconds. It reports the results applied per second and the CPU time of the
API process and of the PostgreSQL backends serving it, as a share of one core and per result.

  PGHOST=... PGPORT=... PGUSER=postgres python3 bench/monitor/ingest.py BUILD_DIR [--seconds 60]
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import World, cpu_seconds  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--servers", type=int, default=50000)
    ap.add_argument("--monitors", type=int, default=7)
    ap.add_argument("--cycle-s", type=int, default=540)
    ap.add_argument("--workers", type=int, default=0, help="monitor_api.workers (0: its default)")
    return ap.parse_args()


def start_api(args, world, role):
    """Starts timepool-monitor-api on an ephemeral loopback port; returns (process, port)."""
    api_bin = os.path.join(args.build, "monitor", "timepool-monitor-api")
    log = open("/tmp/%s-api.log" % world.db, "w")
    cmd = [api_bin, "--set", "database.conninfo=dbname=%s user=%s" % (world.db, role),
           "--set", "monitor_api.listen=127.0.0.1:0", "--set", "monitor_api.plain_http=true",
           "--set", "monitor_api.metrics_listen=", "--set", "log.level=info"]
    if args.workers:
        cmd += ["--set", "monitor_api.workers=%d" % args.workers]
    api = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        m = re.search(r"monitor API on http://127\.0\.0\.1:(\d+)", open(log.name).read())
        if m:
            return api, int(m.group(1))
        time.sleep(0.1)
    api.kill()
    sys.exit("the API did not start: " + open(log.name).read())


def make_batch(rng, ids, m, seq, per_batch):
    """One batch as timepool-monitor sends it: per_batch results of 3 replies each."""
    now_us = int(time.time() * 1e6)
    results = []
    for _ in range(per_batch):
        results.append({
            "server_id": rng.choice(ids), "started_us": now_us - rng.randint(0, 900000),
            "clock": {"synchronized": True, "est_error_s": 0.0001, "max_error_s": 0.002},
            "packets": [{"kind": "reply", "stratum": 2, "leap": 0, "version": 4,
                         "refid": "7f000001", "offset_s": rng.gauss(0, 0.002),
                         "delay_s": abs(rng.gauss(0.02, 0.005))} for _ in range(3)]})
    return json.dumps({"batch_id": "b%d-%d" % (m, seq), "results": results}).encode()


class Load:
    """One thread per monitor, each sending one batch a second until stop()."""

    def __init__(self, url, keys, ids, per_batch):
        self.url, self.keys, self.ids, self.per_batch = url, keys, ids, per_batch
        self.applied = [0] * len(keys)
        self.errors = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(m,)) for m in range(len(keys))]

    def client(self, m):
        rng = random.Random(m)
        seq, start = 0, time.time()
        while not self.stopping.is_set():
            seq += 1
            req = urllib.request.Request(
                self.url, data=make_batch(rng, self.ids, m, seq, self.per_batch), method="POST",
                headers={"Authorization": "Bearer " + self.keys[m],
                         "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    self.applied[m] += json.loads(r.read())["scored"]
            except Exception as e:  # noqa: BLE001
                self.errors.append(str(e))
            time.sleep(max(0, start + seq - time.time()))

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join()


def backend_pids(role):
    out = subprocess.run(["pgrep", "-f", "postgres: %s " % role], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def measure(api, role, load, seconds):
    """CPU of the API and of its PostgreSQL backends over `seconds` of steady load."""
    time.sleep(5)  # warm up: connections, caches
    a0, t0 = sum(load.applied), time.time()
    api0 = cpu_seconds(api.pid)
    pg0 = {p: cpu_seconds(p) for p in backend_pids(role)}
    time.sleep(seconds)
    a1, t1 = sum(load.applied), time.time()
    api_cpu = cpu_seconds(api.pid) - api0
    pg_cpu = sum(cpu_seconds(p) - pg0.get(p, 0) for p in backend_pids(role))
    return {"applied": a1 - a0, "wall": t1 - t0, "api_cpu": api_cpu, "pg_cpu": pg_cpu}


def report(args, offered, m, errors):
    wall, n = m["wall"], max(1, m["applied"])
    print("servers %d x monitors %d on a %d s cycle: %.0f results/s offered" %
          (args.servers, args.monitors, args.cycle_s, offered))
    print("applied %.0f results/s over %.0f s (%d errors)" % (m["applied"] / wall, wall, len(errors)))
    print("timepool-monitor-api CPU: %.1f%% of one core (%.0f us per result); its PostgreSQL "
          "backends: %.1f%% (%.0f us per result); together %.1f%%" %
          (100 * m["api_cpu"] / wall, 1e6 * m["api_cpu"] / n, 100 * m["pg_cpu"] / wall,
           1e6 * m["pg_cpu"] / n, 100 * (m["api_cpu"] + m["pg_cpu"]) / wall))
    if errors:
        print("first error:", errors[0])


def main():
    args = parse_args()
    with World(args.build, "tp_ingest") as w:
        t = time.time()
        ids = w.add_servers(args.servers)
        keys = w.add_monitors(args.monitors)
        w.pair_all()
        w.sql("ANALYZE")
        role = w.login_role("timepool_monitor")
        print("set up %d servers and %d monitors in %.1f s" % (len(ids), len(keys), time.time() - t))
        api, port = start_api(args, w, role)
        try:
            per_batch = max(1, round(args.servers / args.cycle_s))
            load = Load("http://127.0.0.1:%d/v1/results" % port, keys, ids, per_batch)
            load.start()
            try:
                m = measure(api, role, load, args.seconds)
            finally:
                load.stop()
            report(args, per_batch * args.monitors, m, load.errors)
        finally:
            api.terminate()
            api.wait()


if __name__ == "__main__":
    main()
