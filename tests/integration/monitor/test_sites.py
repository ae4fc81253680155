#!/usr/bin/env python3
"""Monitors anywhere, trusted nowhere: several sites in network namespaces (sites.py draws the
world: a central host with the monitor API, DNS and the web's monitoring upkeep; six monitors
in six /24s, one of them in a volunteer's /24 and one with a clock 300 ms ahead; a lying
monitor; chronyd volunteers healthy, 5 s ahead and silent; an ntpsec volunteer sending RATE).
It shows, in this order:
- the healthy servers enter DNS and the bad ones never do (every answer of the whole run);
- the monitor whose clock is 300 ms ahead finds it out from its reference servers and submits
  nothing: it has no row in the probe log or the scores, so it moves no pool score;
- the monitor in z's /24 never serves z: never a pair of z (let alone an active one), no
  result for z, while it is active for other servers;
- z's only monitors stopped while m5 works: z leaves DNS one freshness window after its last
  score (not before), the others stay; its monitors back, z is back;
- the monitor API down for two minutes: DNS keeps its pool, the monitors spool; afterwards
  every batch each monitor sent is recorded once and the probe log holds exactly the results
  each monitor took (those of the outage included);
- all monitors stopped: the outage is declared, DNS keeps its last pool beyond the freshness
  window, and the outage shows in DNS's metric, on timepoolctl's output and on the admin pages;
- last, a monitor that lies (perfect samples for the silent server, sent with its key): its
  lie is scored and it may even be an active monitor of sil, but the honest monitors, which see
  no reply, hold the other active places (schema 0030), so sil stays out of DNS.
Needs root (namespaces, port 123, chronyd, ntpd); exits 77 (skipped), loudly, without it."""
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sites  # noqa: E402  (puts tests/support and tests/integration/web on the path)
import apitest  # noqa: E402
import netns  # noqa: E402
import tptest  # noqa: E402
from sites import BAD, HEALTHY, HONEST, VOLUNTEERS  # noqa: E402
from tptest import check  # noqa: E402

API_OUTAGE_S = 120
GOOD_CLOCK = {"synchronized": True, "est_error_s": 0.0001, "max_error_s": 0.001}


class Liar(threading.Thread):
    """A monitor's key in the wrong hands: every 0.5 s one perfect sample for `server_id`
    (stratum 2, offset 0.1 ms, delay 2 ms) that the server never gave."""

    def __init__(self, world, name, server_id):
        super().__init__(daemon=True)
        self.url = world.api_url + "/v1/results"
        self.key, self.ca, self.server_id = world.keys[name], world.ca, server_id
        self.accepted = self.failed = 0
        self.stop_flag = False

    def run(self):
        n = 0
        while not self.stop_flag:
            n += 1
            sample = {"kind": "reply", "stratum": 2, "leap": 0, "version": 4,
                      "refid": "7f000001", "offset_s": 0.0001, "delay_s": 0.002}
            body = {"batch_id": "lie-%06d" % n,
                    "results": [{"server_id": self.server_id, "clock": GOOD_CLOCK,
                                 "started_us": int(time.time() * 1e6), "packets": [sample]}]}
            try:
                st, r = apitest.request(self.url, self.key, body, ca=self.ca)
                ok = st == 200 and r.get("scored") == 1
            except OSError:  # the API is down
                ok = False
            self.accepted += ok
            self.failed += not ok
            time.sleep(0.5)

    def close(self):
        self.stop_flag = True
        self.join(5)


# --- outside the namespaces ------------------------------------------------------------------
def outer():
    tptest.require_root("network namespaces, port 123, chronyd and ntpd")
    for prog in ("ip", "chronyd", "openssl", "setpriv", "apt-get"):
        if not shutil.which(prog):
            tptest.fail("%s is missing (deploy/install-deps.sh)" % prog)
    if not os.path.exists(sites.FAKETIME_LIB):
        tptest.fail("libfaketime is missing (deploy/install-deps.sh)")
    tptest.ntpsec_binary()  # fetched here, outside the namespaces
    started = time.monotonic()
    net = netns.Network().create()
    try:
        for name, addr in sites.hosts().items():
            net.add_host(name, addr, routes=["127.90.0.0/16"])
        print("network: %d sites on a bridge in %s (%.1f s)"
              % (len(net.hosts), net.switch, time.monotonic() - started), flush=True)
        env = dict(os.environ, TP_SITES_NET=net.prefix)
        return subprocess.run(net.hosts["cl"].cmd([sys.executable, os.path.abspath(__file__),
                                                   "--inside"]), env=env).returncode
    finally:
        net.close()


# --- inside the client's site ----------------------------------------------------------------
def inside():
    started = time.monotonic()
    world = sites.World(os.environ["TP_SITES_NET"])
    passed = False
    try:
        world.start()
        healthy_enter_dns(world)
        wrong_clock_submits_nothing(world)
        lonely_server_leaves(world)
        window = api_down(world)
        all_monitors_stopped(world)
        for name in HONEST:
            exactly_once(world, name, window)
        never_seen(world)
        if not os.environ.get("TP_SITES_SKIP_LIAR"):
            lies_change_nothing(world)
        print("sites: %.0f s in all" % (time.monotonic() - started))
        passed = True
    finally:
        world.close(keep=not passed or bool(os.environ.get("TIMEPOOL_KEEP_SITES")))
    return 0


def names(addresses):
    by_addr = {a: v for v, a in VOLUNTEERS.items()}
    return sorted(by_addr.get(a, a) for a in addresses)


def healthy_enter_dns(w):
    took = tptest.wait_until(lambda: w.in_dns() == sorted(HEALTHY), 90,
                             "the healthy servers in DNS, alone")
    check(True, "the healthy servers %s enter DNS %.1f s after the monitors started; the bad "
                "ones %s are not there" % (HEALTHY, took, BAD))
    pools = {v: float(s) for v, s in w.db.q(
        "SELECT v, s.score FROM servers s JOIN unnest(%s::text[], %s::bigint[]) AS x(v, id) "
        "ON x.id = s.id", list(w.sid), list(w.sid.values()))}
    check(all(pools[v] >= 10 for v in HEALTHY) and all(pools[v] < 10 for v in BAD),
          "pool scores: %s" % {v: round(s, 2) for v, s in sorted(pools.items())})
    steps = dict(w.db.q("SELECT host(s.address), array_agg(DISTINCT p.step ORDER BY p.step) "
                        "FROM probe_log p JOIN servers s ON s.id = p.server_id "
                        "WHERE s.id = ANY (%s) GROUP BY 1", [w.sid[v] for v in BAD]))
    by = {v: steps.get(VOLUNTEERS[v], []) for v in BAD}
    check(by["w5"] and all(float(s) == -4 for s in by["w5"]),
          "w5 (5 s ahead) gets -4 steps: %s" % by["w5"])
    check(by["sil"] and all(float(s) == -5 for s in by["sil"]),
          "sil (silent) gets -5 steps: %s" % by["sil"])
    check(any(float(s) == -3.5 for s in by["rate"]),
          "rate (ntpsec) answers RATE: -3.5 steps among %s" % by["rate"])
    tptest.wait_until(lambda: w.db.one(
        "SELECT status FROM server_monitors WHERE server_id = %s AND monitor_id = %s",
        w.sid["h1"], w.mid[sites.SAME_24]) == "active", 30, "m5 active for h1")
    check(True, "m5 is an active monitor of h1 (it is a working monitor, only not z's)")


def wrong_clock_submits_nothing(w):
    mf = w.monitors["mf"]
    tptest.wait_until(lambda: "own clock disagrees with the reference servers" in mf.log_text(),
                      20, "mf noticing its clock is 300 ms ahead")
    line = [x for x in mf.log_text().splitlines() if "own clock disagrees" in x][0]
    check("median offset of 3 reference servers is -3" in line, "mf says why: %s" % line.strip())
    m = tptest.read_metrics(9124, host=sites.MONITORS["mf"])
    off = m.get("timepool_monitor_reference_offset_seconds", 0)
    check(m.get("timepool_monitor_reference_ok") == 0 and -0.32 < off < -0.28,
          "mf's metrics: reference_ok 0, offset %+.4f s" % off)
    check(m.get("timepool_monitor_probes_unscored_total", 0) > 0, "mf probes, submits nothing")
    ok, reason = w.db.q("SELECT clock_ok, clock_reason FROM monitors WHERE name = 'mf'")[0]
    check(ok is False and "reference servers" in (reason or ""),
          "the API's view of mf: clock not ok (%s)" % reason)
    rows = w.db.one("SELECT (SELECT count(*) FROM probe_log WHERE monitor_id = %s) + "
                    "(SELECT count(*) FROM server_scores WHERE monitor_id = %s)",
                    w.mid["mf"], w.mid["mf"])
    check(rows == 0, "mf has no result in the probe log and no score: its results never move "
                     "a pool score (%d rows)" % rows)


def lies_change_nothing(w):
    """Last (it needs no other monitor running: their view of sil is in the scores)."""
    sil, lm = w.sid["sil"], w.mid[sites.LIAR[0]]
    lied = lambda: w.db.one("SELECT score FROM server_scores WHERE server_id = %s AND "  # noqa: E731
                            "monitor_id = %s", sil, lm)
    liar = Liar(w, sites.LIAR[0], sil)
    liar.start()
    try:
        tptest.wait_until(lambda: (lied() or 0) >= 10, 30, "the liar's score for sil to pass 10")
        time.sleep(4)  # several rounds of the selector with the lie in place
        answered = w.in_dns()
    finally:
        liar.close()
    status = w.db.one("SELECT status FROM server_monitors WHERE server_id = %s AND "
                      "monitor_id = %s", sil, lm)
    pool = float(w.db.one("SELECT score FROM servers WHERE id = %s", sil))
    check(liar.accepted >= 14, "the liar's %d perfect samples for sil were accepted and scored "
                               "(its score %.2f, pair %s)" % (liar.accepted, lied(), status))
    active = w.db.one("SELECT count(*) FROM server_monitors WHERE server_id = %s AND "
                      "status = 'active'", sil)
    check(pool < 10 and "sil" not in answered,
          "the lie moves no pool score into DNS: sil's pool score %.2f (the median of %d active "
          "monitors), DNS answers %s" % (pool, active, answered))


def lonely_server_leaves(w):
    z = w.sid[sites.LONELY]
    t0 = time.monotonic()
    for m in sites.LONELY_MONITORS:
        w.monitors[m].stop()
    last = float(w.db.one("SELECT extract(epoch FROM now() - score_updated_at) FROM servers "
                          "WHERE id = %s", z))
    scored_at = time.monotonic() - last
    check(True, "z's only monitors m1-m4 stopped (z's pool score is %.1f s old)" % last)
    tptest.wait_until(lambda: sites.LONELY not in w.in_dns(4), sites.FRESHNESS_S + 15,
                      "z to leave DNS")
    left = time.monotonic() - scored_at
    check(sites.FRESHNESS_S <= left <= sites.FRESHNESS_S + 10,
          "z leaves DNS %.1f s after its last score (freshness window %d s)"
          % (left, sites.FRESHNESS_S))
    check(w.db.one("SELECT stale_since IS NOT NULL FROM servers WHERE id = %s", z),
          "z is stale")
    others = [names(a) for a in w.watch.since(t0)]
    check(others and all(set(HEALTHY) - {sites.LONELY} <= set(a) for a in others),
          "h1-h3, scored by m5, stayed in every answer meanwhile (%d answers)" % len(others))
    check(w.db.one("SELECT NOT outage FROM monitoring_outage"), "no outage: m5 reports")
    for m in sites.LONELY_MONITORS:
        w.monitors[m].start()
    took = tptest.wait_until(lambda: w.in_dns() == sorted(HEALTHY), 30, "z back in DNS")
    check(True, "m1-m4 back: z is back in DNS after %.1f s" % took)


def api_down(w):
    """Stops the API for API_OUTAGE_S; returns the wall-clock window it was down."""
    before = w.in_dns()
    t0 = time.monotonic()
    w.api.stop()
    down = time.time()
    tptest.wait_until(lambda: w.db.one("SELECT outage FROM monitoring_outage"),
                      sites.OUTAGE_S + 10, "the monitoring outage")
    check(True, "API down: after %.1f s no monitor has reported: monitoring outage"
          % (time.monotonic() - t0))
    while time.monotonic() - t0 < API_OUTAGE_S:
        time.sleep(min(20, max(0.1, API_OUTAGE_S - (time.monotonic() - t0))))
        waiting = {m: len(apitest.spooled(w.spool(m))) for m in HONEST}
        print("%3.0f s: spooled %s, DNS %s" % (time.monotonic() - t0, waiting, w.in_dns(4)),
              flush=True)
    answers = [names(a) for a in w.watch.since(t0)]
    check(answers and all(a == before for a in answers),
          "DNS answered with its pool %s all the %d s (%d answers)"
          % (before, API_OUTAGE_S, len(answers)))
    check(all(len(apitest.spooled(w.spool(m))) > 100 for m in HONEST),
          "every monitor kept probing into its spool")
    w.api.start()
    up = time.time()
    took = tptest.wait_until(lambda: not any(apitest.spooled(w.spool(m)) for m in HONEST), 150,
                             "the spools to drain")
    check(True, "the API is back: every spool drained in %.1f s" % took)
    tptest.wait_until(lambda: not w.db.one("SELECT outage FROM monitoring_outage"), 10,
                      "the outage to end")
    return down, up


def all_monitors_stopped(w):
    for m in sites.MONITORS:
        w.monitors[m].stop()
    t0 = time.monotonic()
    pool = w.in_dns()
    stale = lambda: names(a for (a,) in w.db.q(  # noqa: E731
        "SELECT host(address) FROM servers WHERE stale_since IS NOT NULL"))
    stale_before = stale()
    said = w.dns.log_text().count("monitoring outage: no monitor")
    check(pool == sorted(HEALTHY), "all monitors stopped; DNS has %s" % pool)
    tptest.wait_until(lambda: w.db.one("SELECT outage FROM monitoring_outage"),
                      sites.OUTAGE_S + 10, "the monitoring outage")
    check(True, "outage after %.1f s without a report" % (time.monotonic() - t0))
    while time.monotonic() - t0 < sites.FRESHNESS_S + 8:
        time.sleep(1)
    answers = [names(a) for a in w.watch.since(t0)]
    check(answers and all(a == pool for a in answers),
          "DNS kept its last pool %.0f s, beyond the freshness window (%d answers)"
          % (time.monotonic() - t0, len(answers)))
    # The bad servers (out of DNS, probed on their 2-hour cycle) may turn stale at any time;
    # no server of the pool may: the outage froze it.
    check(not set(stale()) & set(pool), "no server of the pool became stale during the outage "
          "(stale: %s; before the monitors stopped: %s)" % (stale(), stale_before))
    m = tptest.read_metrics(9153, host=sites.CENTRAL)
    check(m.get("timepool_dns_monitoring_outage") == 1, "DNS's metric: "
          "timepool_dns_monitoring_outage %s" % m.get("timepool_dns_monitoring_outage"))
    check(w.dns.log_text().count("monitoring outage: no monitor") > said, "DNS's log says so")
    r = w.db.ctl("monitor", "list")
    check(r.returncode == 0 and "monitoring outage" in r.stderr,
          "timepoolctl says so: %s" % r.stderr.strip())
    from webtest import Client
    admin = Client(w.web)
    admin.login(*sites.ADMIN)
    page = admin.get("/admin/servers")
    check(page.status == 200 and 'id="outage"' in page.body, "the admin pages show the banner")


def exactly_once(w, name, window):
    """Every batch `name` sent is recorded once; the probe log holds exactly the results it took,
    those it took while the API was down included."""
    log, mid = w.monitors[name].all_logs(), w.mid[name]
    check(not apitest.spooled(w.spool(name)), "%s stopped with an empty spool" % name)
    sent = apitest.batches_sent(log)
    batches = dict(w.db.q("SELECT batch_id, results FROM monitor_batches WHERE monitor_id = %s",
                          mid))
    check(sent and len(set(sent)) == len(sent) and set(sent) == set(batches),
          "%s: %d batches sent, %d recorded, each once" % (name, len(sent), len(batches)))
    rows = dict(w.db.q("SELECT server_id, count(*) FROM probe_log WHERE monitor_id = %s "
                       "GROUP BY 1", mid))
    took = {v: apitest.results_taken(log, sid) for v, sid in w.sid.items()}
    check(all(rows.get(w.sid[v], 0) == n for v, n in took.items()) and
          sum(batches.values()) == sum(rows.values()),
          "%s: probe log rows = results sent, per server: %s"
          % (name, {v: (n, rows.get(w.sid[v], 0)) for v, n in sorted(took.items())}))
    during = w.db.one("SELECT count(*) FROM probe_log WHERE monitor_id = %s AND ts BETWEEN "
                      "to_timestamp(%s) AND to_timestamp(%s)", mid, window[0] + 1, window[1] - 1)
    check(during > 50, "%s: %d of them taken while the API was down" % (name, during))
    if name == sites.SAME_24:
        check(took[sites.LONELY] == 0 and rows.get(w.sid[sites.LONELY], 0) == 0,
              "m5 never probed z, its own /24: no result")


def never_seen(w):
    w.watch.close()
    seen = names(w.watch.ever)
    check(not set(seen) & set(BAD), "in %d answers of the whole run DNS named %s, never %s"
          % (len(w.watch.answers), seen, BAD))
    check(not w.watch.failures, "DNS answered every query (%s)" % w.watch.failures[:3])
    pair = w.watch.pair_status.get((sites.LONELY, sites.SAME_24), set())
    check("active" not in pair, "m5 was never active for z (statuses seen: %s)" % sorted(pair))


if __name__ == "__main__":
    sys.exit(inside() if "--inside" in sys.argv else outer())
