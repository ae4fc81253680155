#!/usr/bin/env python3
"""The central shift check with real timepool-monitor-api (as the timepool_monitor role) and
PostgreSQL: four active monitors submit raw results for the same six servers; three see the
servers within a millisecond or two, the fourth 300 ms behind on every one (its clock is
300 ms ahead). The API's shift check moves the fourth back to testing with the reason, admins
see it in `timepoolctl monitor list`, the three others stay active, and the shifted monitor's
later results move no pool score. A monitor's report of its own clock (sent with its
assignment request) is shown to admins too."""
import json
import os
import random
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

GOOD_CLOCK = {"synchronized": True, "est_error_s": 0.0001, "max_error_s": 0.001}


def reply(offset):
    return {"kind": "reply", "stratum": 2, "leap": 0, "version": 4, "refid": "7f000001",
            "offset_s": offset, "delay_s": 0.01}


def monitors(db):
    out = db.ctl("monitor", "list", "--json")
    check(out.returncode == 0, "timepoolctl monitor list --json")
    rows = json.loads(out.stdout)
    return {r["name"]: r for r in (rows if isinstance(rows, list) else rows["monitors"])}


def main():
    work = tempfile.mkdtemp(prefix="tp-shift-")
    db = tptest.Database("tpshift_")
    api = None
    rng = random.Random(1130)
    try:
        conninfo, _ = apitest.monitor_role_conninfo(db)
        keys = {}
        for name in ("good1", "good2", "good3", "ahead"):
            out = db.ctl("monitor", "add", name, "--status", "active")
            check(out.returncode == 0, "monitor add " + name)
            keys[name] = [l.split(" ", 1)[1] for l in out.stdout.splitlines() if l.startswith("key: ")][0]
        servers = [db.one("INSERT INTO servers (address, country) VALUES (%s, 'de') RETURNING id",
                          "192.0.2.%d" % (10 + i)) for i in range(6)]
        api = apitest.Api(conninfo, workdir=work,
                          extra=["--set", "monitor_api.shift_check_interval_s=1",
                                 "--set", "monitor_api.shift_threshold_ms=25"])

        # --- the monitors' reports of their own clocks --------------------------------------------
        st, _ = apitest.request(api.url + "/v1/assignment?clock_ok=1", keys["good1"])
        check(st == 200, "good1 reports its clock good")
        st, _ = apitest.request(api.url + "/v1/assignment?clock_ok=0&clock_reason=reference%20servers%3A%20"
                                "the%20median%20offset%20is%20-300.0%20ms", keys["ahead"])
        check(st == 200, "ahead reports its clock not good")
        m = monitors(db)
        check(m["good1"]["clock"] == "ok", "admins see good1's clock ok: %r" % m["good1"]["clock"])
        check("not ok: reference servers: the median offset is -300.0 ms" in m["ahead"]["clock"],
              "admins see why ahead's clock is not good: %r" % m["ahead"]["clock"])

        # --- results: three agree, one is 300 ms off on every server -------------------------------
        t0 = int((time.time() - 120) * 1e6)
        for name, k in keys.items():
            wrong = -0.300 if name == "ahead" else 0.0
            results = []
            for i, sid in enumerate(servers):
                own = 0.2 if i == 0 else 0.0  # one server is itself 200 ms off: not the monitors' fault
                for n in range(3):
                    results.append({"server_id": sid, "started_us": t0 + (n * 10 + i) * 1_000_000,
                                    "clock": GOOD_CLOCK,
                                    "packets": [reply(own + wrong + rng.gauss(0, 0.001))]})
            st, r = apitest.request(api.url + "/v1/results", k, {"batch_id": name + "-1", "results": results})
            check(st == 200 and r["scored"] == 18, "%s's 18 results applied (%s)" % (name, r))

        tptest.wait_until(lambda: db.one("SELECT status FROM monitors WHERE name = 'ahead'") == "testing",
                          20, "the shift check moves 'ahead' back to testing")
        check(True, "the shifted monitor is moved back to testing")
        reason = db.one("SELECT demoted_reason FROM monitors WHERE name = 'ahead'")
        check(reason.startswith("results shifted -300.") and "over 6 servers" in reason,
              "with the reason: %r" % reason)
        m = monitors(db)
        check(m["ahead"]["status"] == "testing" and m["ahead"]["demoted"].startswith("results shifted -300."),
              "admins see it in timepoolctl monitor list: %r" % m["ahead"]["demoted"])
        time.sleep(2)  # more checks run: the good ones stay
        check(all(db.one("SELECT status FROM monitors WHERE name = %s", n) == "active"
                  for n in ("good1", "good2", "good3")),
              "the three monitors that agree stay active")
        check(all(not db.one("SELECT demoted_reason IS NOT NULL FROM monitors WHERE name = %s", n)
                  for n in ("good1", "good2", "good3")), "and have no reason recorded")
        metrics = api.metrics()
        check(metrics.get("timepool_monitor_api_shifted_total", 0) >= 1, "counted in /metrics")

        # --- the shifted monitor no longer moves a pool score ---------------------------------------
        sid = servers[1]
        before = float(db.one("SELECT score FROM servers WHERE id = %s", sid))
        results = [{"server_id": sid, "started_us": t0 + (40 + n) * 1_000_000, "clock": GOOD_CLOCK,
                    "packets": [{"kind": "timeout"}]} for n in range(5)]
        st, r = apitest.request(api.url + "/v1/results", keys["ahead"], {"batch_id": "ahead-2", "results": results})
        check(st == 200 and r["scored"] == 5, "the monitor in testing is still measured (%s)" % r)
        after = float(db.one("SELECT score FROM servers WHERE id = %s", sid))
        check(after == before, "its results move no pool score (%.3f, %.3f)" % (before, after))
        api.stop()
        check("moved back to testing" in api.log_text(), "the API logs the move")
    finally:
        if api:
            api.kill()
        db.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
