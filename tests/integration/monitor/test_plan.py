#!/usr/bin/env python3
"""The central probe plan (monitor/probe_plan.hpp) through the real timepool-monitor-api, the
real timepool-web and PostgreSQL (the API as the timepool_monitor role):
- every probing monitor gets each server's slot: all monitors together probe one server no
  more often than the minimum spacing, the cycle stretching when there are too many monitors;
- a server that answered DENY (scored centrally: capped at -50) is probed every 2 hours;
- a stratum-0 INIT reply is scored -4 with no cap, as the NTP Pool's monitor scores it;
- its volunteer asks for a re-check from the server page: due at once for the first monitor,
  the others at their spacing, the normal cycle back; rate limited per server and per account;
  nobody re-checks another's server;
- a monitor kept from a server (in its /24) leaves no empty slot: the monitors that do probe
  it share its cycle evenly."""
import os
import sys
import tempfile
import time
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "web"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
import apitest  # noqa: E402
import tptest  # noqa: E402
import webtest  # noqa: E402
from tptest import check  # noqa: E402

GOOD_CLOCK = {"synchronized": True, "est_error_s": 0.0001, "max_error_s": 0.001}
CYCLE = 540000
SPACING = 60000


def reply(offset=0.001, stratum=2, leap=0, refid="7f000001"):
    return {"kind": "reply", "stratum": stratum, "leap": leap, "version": 4, "refid": refid,
            "offset_s": offset, "delay_s": 0.01}


def result(server, started_us, packets):
    return {"server_id": server, "started_us": started_us, "clock": GOOD_CLOCK, "packets": packets}


def add_monitor(db, name):
    out = db.ctl("monitor", "add", name, "--status", "active")
    check(out.returncode == 0, "monitor add " + name)
    return [l.split(" ", 1)[1] for l in out.stdout.splitlines() if l.startswith("key: ")][0]


def slots_of(api, keys, sid):
    """{monitor name: the server's slot in its assignment}."""
    out = {}
    for name, k in keys.items():
        st, a = apitest.request(api.url + "/v1/assignment", k)
        check(st == 200, "assignment for %s" % name)
        for s in a["servers"]:
            if s["id"] == sid:
                out[name] = s
    return out


def phases(slots, cycle):
    return sorted(s["due_ms"] % cycle for s in slots.values())


def min_circular_gap(ph, cycle):
    return min((ph[(i + 1) % len(ph)] - ph[i]) % cycle for i in range(len(ph)))


def excluded_monitor_leaves_no_gap(db, api, keys):
    """Ten probing monitors, each in a /24 of its own, one of them in the /24 of a server, paired
    by the selector: the monitors that probe the server share its cycle evenly, with no empty
    slot for the one kept from it or for those not paired with it."""
    sid = db.one("INSERT INTO servers (address, country, score) VALUES ('203.0.113.10', 'de', 15) "
                 "RETURNING id")
    for i, name in enumerate(sorted(keys, key=lambda n: int(n[1:]))):
        addr = "203.0.113.77" if name == "m5" else "198.51.%d.1" % (100 + i)
        db.q("UPDATE monitors SET address = %s WHERE name = %s", addr, name)
    for _ in range(4):  # new candidates join a few at a time
        db.q("SELECT select_monitors()")
    sl = slots_of(api, keys, sid)
    n = len(sl)
    paired = db.one("SELECT count(*) FROM server_monitors WHERE server_id = %s", sid)
    check("m5" not in sl and n == paired and n >= 2,
          "the monitor in the server's /24 is not assigned it; the %d paired ones are" % n)
    cycles = {s["cycle_ms"] for s in sl.values()}
    check(cycles == {CYCLE}, "they share the 9-minute cycle: %s (not stretched for ten)" % cycles)
    ph = phases(sl, CYCLE)
    gaps = sorted((ph[(i + 1) % len(ph)] - ph[i]) % CYCLE for i in range(len(ph)))
    check(all(abs(g - CYCLE / n) <= 1 for g in gaps),
          "their probes are %d ms apart, no slot left empty: %s" % (CYCLE // n, gaps))


def shared_slots(db, api, keys, ok):
    """Three monitors share the 9-minute cycle; ten stretch it to 10 x the spacing."""
    now_ms = int(time.time() * 1000)
    sl = slots_of(api, keys, ok)
    check(len(sl) == 3 and all(s["cycle_ms"] == CYCLE for s in sl.values()),
          "every monitor probes the server once per 9 minutes: %s" % sl)
    check(all(now_ms - 1000 <= s["due_ms"] < now_ms + CYCLE + 5000 for s in sl.values()),
          "each slot is within the coming cycle")
    ph = phases(sl, CYCLE)
    check(min_circular_gap(ph, CYCLE) == CYCLE // 3,
          "three monitors' probes of one server are %d ms apart (phases %s)" % (CYCLE // 3, ph))
    # Ten monitors cannot all probe every 9 minutes 60 s apart: every 10 minutes instead.
    keys.update({n: add_monitor(db, n) for n in ("m%d" % i for i in range(4, 11))})
    sl = slots_of(api, keys, ok)
    cycles = {s["cycle_ms"] for s in sl.values()}
    check(len(sl) == 10 and cycles == {10 * SPACING},
          "ten monitors: the cycle stretches to 10 x the spacing (%s)" % cycles)
    check(min_circular_gap(phases(sl, 10 * SPACING), 10 * SPACING) >= SPACING,
          "and no two of them probe the server closer than the minimum spacing")


def deny_probed_slowly(db, api, keys, ok, deny, t0):
    """DENY: capped at -50 and probed every 2 hours."""
    deny_pkt = reply(0, stratum=0, leap=3, refid="44454e59")
    st, r = apitest.request(api.url + "/v1/results", keys["m1"],
                            {"batch_id": "m1-plan-1", "results": [result(deny, t0, [deny_pkt])]})
    check(st == 200 and r["scored"] == 1, "the DENY result is applied: %s %s" % (st, r))
    check(float(db.one("SELECT score FROM servers WHERE id = %s", deny)) == -50,
          "DENY caps the pool score at -50")
    sl = slots_of(api, keys, deny)
    check(all(s["cycle_ms"] == 7200000 and s.get("slow") for s in sl.values()),
          "the DENY server is probed every 2 hours by each monitor")
    check(all(s["cycle_ms"] == 10 * SPACING for s in slots_of(api, {"m1": keys["m1"]}, ok).values()),
          "a healthy server keeps the normal cycle")


def init_uncapped(db, api, keys, init, t0):
    """INIT: -4 with no cap, as the NTP Pool scores it."""
    goods = [result(init, t0 + i * 1_000_000, [reply()]) for i in range(12)]
    init_pkt = reply(0, stratum=0, leap=3, refid="494e4954")
    st, r = apitest.request(api.url + "/v1/results", keys["m1"],
                            {"batch_id": "m1-plan-2",
                             "results": goods + [result(init, t0 + 13_000_000, [init_pkt])]})
    check(st == 200 and r["scored"] == 13, "13 results of the INIT server applied: %s" % r)
    before = 0.0
    for _ in range(12):
        before = 0.95 * before + 1
    step, score = db.q("SELECT step, score FROM probe_log WHERE server_id = %s ORDER BY ts DESC LIMIT 1", init)[0]
    check(float(step) == -4 and abs(float(score) - (0.95 * before - 4)) < 1e-3,
          "INIT: step -4 and no cap at 5 (%s, %s; before %.3f)" % (step, score, before))


def recheck_offered(db, web, deny):
    """The server page offers its owner (only) a re-check; returns the owner's client and
    account after one accepted request, and the time it was recorded (ms)."""
    owner = webtest.Client(web)
    email = "owner-plan@example.org"
    owner.signup(email)
    acct = db.one("SELECT id FROM accounts WHERE email = %s", email)
    db.q("UPDATE servers SET owner_id = %s, netspeed = 1500 WHERE id = %s", acct, deny)
    page = owner.get("/servers/%d" % deny)
    check(page.status == 200 and 'action="/servers/%d/recheck"' % deny in page.body,
          "the server page offers a re-check")
    other = webtest.Client(web)
    other.signup("other-plan@example.org")
    other.get("/servers")
    check(other.post("/servers/%d/recheck" % deny, {}).status == 403,
          "another account cannot re-check the server")
    check(db.one("SELECT recheck_requested_at IS NULL FROM servers WHERE id = %s", deny),
          "and nothing was recorded")
    asked_ms = int(time.time() * 1000)
    r = owner.post("/servers/%d/recheck" % deny, {})
    check(r.status == 303, "the re-check is accepted (%s)" % r.status)
    req_ms = int(float(db.one("SELECT extract(epoch FROM recheck_requested_at) * 1000 FROM servers WHERE id = %s", deny)))
    check(abs(req_ms - asked_ms) < 5000, "the request time is recorded")
    return owner, acct, req_ms


def recheck(db, api, web, keys, deny):
    """Re-check from the server page: due at once for the first monitor, the others at their
    spacing, the normal cycle back; rate limited per server and per account."""
    owner, acct, req_ms = recheck_offered(db, web, deny)
    sl = slots_of(api, keys, deny)
    order = sorted(sl, key=lambda n: int(n[1:]))
    first = sl[order[0]]
    check(abs(first["recheck_due_ms"] - req_ms) <= 1 and first["recheck_due_ms"] <= int(time.time() * 1000),
          "the first monitor's re-check is due at once: %s" % first)
    check(all(s["cycle_ms"] == 10 * SPACING and not s.get("slow") for s in sl.values()),
          "after a re-check the server has the normal cycle again")
    dues = sorted(s["recheck_due_ms"] for s in sl.values())
    check(min(b - a for a, b in zip(dues, dues[1:])) >= SPACING,
          "the other monitors follow at the minimum spacing: %s" % [d - req_ms for d in dues])
    owner.get("/servers/%d" % deny)
    check(owner.post("/servers/%d/recheck" % deny, {}).status == 429,
          "a second re-check of the same server within 10 minutes is refused")
    # Per account: 10 an hour.
    extra = [db.one("INSERT INTO servers (address, country, owner_id) VALUES (%s, 'de', %s) RETURNING id",
                    "192.0.2.%d" % (20 + i), acct) for i in range(10)]
    codes = []
    for sid in extra:
        owner.get("/servers/%d" % sid)
        codes.append(owner.post("/servers/%d/recheck" % sid, {}).status)
    check(codes == [303] * 9 + [429], "ten re-checks an hour per account: %s" % codes)
    check(db.one("SELECT count(*) FROM server_rechecks WHERE account_id = %s", acct) == 10,
          "each accepted re-check is recorded")


def main():
    work = tempfile.mkdtemp(prefix="tp-plan-")
    db = webtest.TestDatabase()
    api = web = None
    try:
        conninfo, _ = apitest.monitor_role_conninfo(db)
        keys = {n: add_monitor(db, n) for n in ("m1", "m2", "m3")}
        ok = db.one("INSERT INTO servers (address, country, score) VALUES ('192.0.2.1', 'de', 15) RETURNING id")
        deny = db.one("INSERT INTO servers (address, country) VALUES ('192.0.2.2', 'de') RETURNING id")
        init = db.one("INSERT INTO servers (address, country) VALUES ('192.0.2.3', 'de') RETURNING id")
        api = apitest.Api(conninfo, workdir=work,
                          extra=["--set", "monitor_api.min_spacing_ms=%d" % SPACING])
        shared_slots(db, api, keys, ok)
        t0 = int((time.time() - 30) * 1e6)
        deny_probed_slowly(db, api, keys, ok, deny, t0)
        init_uncapped(db, api, keys, init, t0)
        web = webtest.WebServer(db)
        recheck(db, api, web, keys, deny)
        excluded_monitor_leaves_no_gap(db, api, keys)
    finally:
        if web:
            web.stop()
        if api:
            api.stop()
        db.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
