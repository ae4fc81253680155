#!/usr/bin/env python3
"""The monitor API down for a while loses no result and duplicates none, with real programs:
chronyd as the volunteer, timepool-monitor-api over HTTPS (private CA) as the timepool_monitor
role on a fresh database, timepool-monitor with its spool. The API is stopped; the monitor keeps
probing and spools; the monitor is restarted too (it starts from its saved assignment); then the
API comes back and the spool empties. Every result the monitor submitted (its debug log names
each) is in the probe log exactly once, results taken during the outage included, and the
score series is exactly 20*(1-0.95^n): each result applied once, in order.

Then the spool's bound: a monitor with monitor.spool_max_batches=3 and the API down keeps at
most 3 batches, deletes the oldest (counted in its metrics, logged as an error), and once the
API is back exactly the batches it kept are applied, none of those it deleted. Last, the
database refusing the API: it answers 503 with Retry-After: 2 and the monitor waits 2 s
between attempts."""
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
import apitest  # noqa: E402
import tptest  # noqa: E402
from tptest import check  # noqa: E402


def spooled(spool):
    return [n for n in os.listdir(spool) if n.endswith(".json") and n != "assignment.json"]


def batch_id(name):
    return name.split("-", 1)[1][:-len(".json")]


def retry_after_honoured(db, user, mon):
    """The database refusing the API: it answers 503 with Retry-After: 2, and the monitor waits
    those 2 s between its attempts instead of its backoff's (200 ms, doubling)."""
    db.q("ALTER ROLE %s NOLOGIN" % user)
    pattern = r"monitor API still unavailable after \d+ attempts \((.*?)\); next in (\d+) ms"
    try:
        db.one("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = %s", user)
        tptest.wait_until(lambda: len(re.findall(pattern, mon.log_text())) >= 2, 20,
                          "the monitor tries again while the database refuses the API")
    finally:
        db.q("ALTER ROLE %s LOGIN" % user)
    tries = re.findall(pattern, mon.log_text())
    check(all("HTTP 503" in why and int(ms) == 2000 for why, ms in tries),
          "after a 503 with Retry-After: 2 the monitor waits 2000 ms each time: %s" % tries)


def bounded_spool(mon_args, spool, work, db, api_up, user):
    """API down: at most 3 batches kept, the oldest deleted, counted and logged; API back: the
    kept ones applied, the deleted ones never."""
    args = mon_args + ["--set", "monitor.spool_max_batches=3",
                       "--set", "monitor.metrics_listen=127.0.0.1:0"]
    mon = tptest.Daemon("monitor", args, workdir=work,
                        ready=[r"probing 1 servers", r"metrics on http://127\.0\.0\.1:(\d+)/metrics"])
    port = int(mon.ready_match[1].group(1))
    dropped = lambda: tptest.read_metrics(port).get("timepool_monitor_spool_dropped_batches_total", 0)  # noqa: E731
    tptest.wait_until(lambda: dropped() >= 4, 30, "the full spool deletes its oldest batches")
    m = tptest.read_metrics(port)
    check(m["timepool_monitor_spool_dropped_results_total"] >= m["timepool_monitor_spool_dropped_batches_total"],
          "the metrics count the deleted batches and their results: %s" %
          {k: v for k, v in m.items() if "spool" in k})
    check(m["timepool_monitor_spool_batches"] <= 3, "the spool holds at most 3 batches")
    mon.stop()
    log = mon.log_text()
    check(re.search(r"error monitor: spool \S+ is full \(3 batches", log) is not None,
          "the deletion is logged as an error naming the bound")
    gone = set(re.findall(r"spool full: deleted \d+-(\S+)\.json unsent", log))
    kept = {batch_id(n) for n in spooled(spool)}
    check(len(kept) <= 3 and len(gone) >= 4 and not kept & gone,
          "%d batches kept, %d deleted" % (len(kept), len(gone)))
    api = api_up()
    mon = tptest.Daemon("monitor", mon_args, workdir=work, ready=[r"probing 1 servers"])
    tptest.wait_until(lambda: not spooled(spool), 30, "the spool empties")
    retry_after_honoured(db, user, mon)
    tptest.wait_until(lambda: not spooled(spool), 30, "the spool empties again")
    mon.stop()
    api.stop()
    applied = {r[0] for r in db.q("SELECT batch_id FROM monitor_batches")}
    check(kept <= applied and not gone & applied,
          "the kept batches are applied, the deleted ones never")


def main():
    if shutil.which("chronyd") is None or shutil.which("openssl") is None:
        tptest.fail("chronyd and openssl are needed (run deploy/install-deps.sh)")
    tptest.require_root("chronyd drops privileges to _chrony")
    work = tempfile.mkdtemp(prefix="tp-spool-")
    os.chmod(work, 0o755)
    spool = os.path.join(work, "spool")
    db = tptest.Database("tpspool_")
    chrony = api = mon = None
    try:
        ca, cert, key = apitest.make_ca(work)
        conninfo, user = apitest.monitor_role_conninfo(db)
        out = db.ctl("monitor", "add", "spooler", "--status", "active")
        mkey = re.search(r"key: ([0-9a-f]+)", out.stdout).group(1)
        chrony = tptest.Chronyd()
        sid = db.one("INSERT INTO servers (address, country) VALUES ('127.0.0.1', 'de') RETURNING id")
        port = tptest.free_port(__import__("socket").SOCK_STREAM)
        api_extra = ["--set", "monitor_api.interval_ms=500", "--set", "monitor_api.refresh_ms=500",
                     "--set", "monitor_api.min_spacing_ms=50", "--set", "monitor_api.retry_after_s=2"]
        api = apitest.Api(conninfo, tls=(cert, key), port=port, extra=api_extra, workdir=work)
        mon_args = [tptest.MONITOR, "--set", "log.level=debug", "--set", "monitor.key=" + mkey,
                    "--set", "monitor.url=" + api.url, "--set", "monitor.ca_file=" + ca,
                    "--set", "monitor.spool_dir=" + spool, "--set", "monitor.ntp_port=%d" % chrony.port,
                    "--set", "monitor.new_server_within_ms=100", "--set", "monitor.packets=1",
                    "--set", "monitor.packet_timeout_ms=300", "--set", "monitor.batch_interval_ms=200",
                    "--set", "monitor.trust_local_clock=true", "--set", "monitor.metrics_listen=",
                    "--set", "monitor.request_timeout_ms=1000"]
        count = lambda: db.one("SELECT count(*) FROM probe_log")  # noqa: E731
        mon = tptest.Daemon("monitor", mon_args, workdir=work, ready=[r"probing 1 servers"])
        tptest.wait_until(lambda: count() >= 5, 20, "first results in the probe log")
        check(True, "results arrive through the API over HTTPS (%d so far)" % count())

        api.stop()
        down_at = time.time()
        tptest.wait_until(lambda: len(spooled(spool)) >= 5, 20, "batches in the spool")
        check(True, "with the API down the monitor keeps probing: %d batches spooled" % len(spooled(spool)))
        mon.stop()
        first_log = mon.log_text()
        left = len(spooled(spool))
        check(left >= 5, "after the monitor stopped, %d batches wait in the spool" % left)

        mon = tptest.Daemon("monitor", mon_args, workdir=work, ready=[r"probing 1 servers"])
        check("starting from the last saved assignment" in mon.log_text() and
              "batches from an earlier run to send" in mon.log_text(),
              "the restarted monitor starts from its saved assignment and finds the spool")
        tptest.wait_until(lambda: len(spooled(spool)) >= left + 5, 20, "more batches in the spool")
        check(count() == db.one("SELECT count(*) FROM probe_log WHERE ts < to_timestamp(%s)", down_at + 1),
              "nothing reached the database while the API was down")
        api = apitest.Api(conninfo, tls=(cert, key), port=port, extra=api_extra, workdir=work)
        back_at = time.time()
        tptest.wait_until(lambda: not spooled(spool), 30, "the spool empties")
        check(True, "the API is back: the spool emptied")
        mon.stop()
        api.stop()

        submitted = len(re.findall(r"debug monitor: server=%d (?!not submitted)" % sid,
                                   first_log + mon.log_text()))
        n = count()
        check(submitted >= 10 and n == submitted,
              "nothing lost, nothing twice: %d results submitted, %d in the probe log" % (submitted, n))
        check(db.one("SELECT sum(results) FROM monitor_batches") == n, "the applied batches hold exactly those")
        check(db.one("SELECT probes FROM server_scores WHERE server_id = %s", sid) == n,
              "server_scores counted each once")
        during = db.one("SELECT count(*) FROM probe_log WHERE ts BETWEEN to_timestamp(%s) AND to_timestamp(%s)",
                        down_at + 0.5, back_at - 0.5)
        check(during >= 5, "%d results taken while the API was down are in the probe log" % during)
        scores = [float(s) for (s,) in db.q("SELECT score FROM probe_log ORDER BY ts")]
        check(all(abs(s - 20 * (1 - 0.95 ** (i + 1))) < 1e-4 for i, s in enumerate(scores)),
              "the score series is 20*(1-0.95^n): each result applied once, in order")
        check(not os.listdir(os.path.join(spool, "rejected")), "no batch was refused")
        bounded_spool(mon_args, spool, work, db, lambda: apitest.Api(conninfo, tls=(cert, key), port=port, extra=api_extra, workdir=work), user)
    finally:
        for d in (mon, api, chrony):
            if d:
                d.kill()
        if chrony:
            chrony.close()
        db.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
