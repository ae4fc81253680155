#!/usr/bin/env python3
"""timepool-monitor-api over HTTPS with a private CA made in the test, as the timepool_monitor
role, on a fresh database of the test cluster:
- a client that does not trust the CA, and plain HTTP, get nothing; a wrong or missing key is
  refused (401) and counted;
- the assignment of a monitor with an address names the servers the selector paired it with,
  never one in its own /24;
- a batch of raw samples is scored centrally (step table, 0.95 decay) and written once: the
  same batch again is acknowledged as a duplicate and writes nothing;
- the database ending the API's sessions (a restart) fails no request; the database refusing
  it answers 503 with a Retry-After;
- results for an unassigned server (or one unpaired from the monitor more than a day ago: less
  is accepted), from the future, from too far in the past, and malformed
  batches are refused with their reason, counted in /metrics and written nowhere;
- a lying monitor cannot choose a score: fields it adds are ignored, a kiss-o'-death it calls a
  good reply is scored as the kiss-o'-death, and results taken while its clock was not
  synchronized move nothing;
- a paused monitor's results are refused (403);
- timepoolctl monitor set-address records where a monitor probes from, and monitor key gives it
  a new key (the old one is refused at once)."""
import os
import shutil
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
import apitest  # noqa: E402
import tptest  # noqa: E402
from tptest import check  # noqa: E402

GOOD_CLOCK = {"synchronized": True, "est_error_s": 0.0001, "max_error_s": 0.001}


def now_us(offset_s=0.0):
    return int((time.time() + offset_s) * 1e6)


def reply(offset=0.001, stratum=2, leap=0, refid="7f000001"):
    return {"kind": "reply", "stratum": stratum, "leap": leap, "version": 4, "refid": refid,
            "offset_s": offset, "delay_s": 0.01}


def result(server, started, packets=None, clock=None):
    return {"server_id": server, "started_us": started, "clock": clock or GOOD_CLOCK,
            "packets": packets or [reply()]}


def get_with_headers(url, key, ca):
    """(status, headers) of a GET that verifies against `ca`."""
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(req, timeout=10, context=ssl.create_default_context(cafile=ca)) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.headers


def database_restart(api, db, user, key, ca):
    """The database ends the API's sessions (as a restart does): the next request is answered
    on a new connection, not failed. The database refusing the API: 503 with Retry-After."""
    url = api.url + "/v1/assignment"
    check(get_with_headers(url, key, ca)[0] == 200, "the API's pool holds a connection")
    ended = db.one("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = %s", user)
    check(ended >= 1, "the database ended the API's %d sessions" % ended)
    st, _ = get_with_headers(url, key, ca)
    check(st == 200, "the first request after the restart is answered (%s), not 503" % st)
    check(api.metrics().get("timepool_monitor_api_database_retried_total", 0) >= 1,
          "the dead pooled connection was dropped and the request run again (counted)")
    db.q("ALTER ROLE %s NOLOGIN" % user)
    try:
        db.one("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = %s", user)
        st, headers = get_with_headers(url, key, ca)
        check(st == 503 and headers.get("Retry-After") == "10",
              "the database away: 503 with Retry-After: 10 (%s, %s)" % (st, headers.get("Retry-After")))
    finally:
        db.q("ALTER ROLE %s LOGIN" % user)
    check(get_with_headers(url, key, ca)[0] == 200, "the database back: answered again")


class World:
    """The database, two monitors (fra1 active at 198.51.100.7, sleepy paused), four servers
    (two to probe, one in fra1's /24, one deleted 3 days ago) and the API over TLS."""

    def __init__(self, work, db):
        self.db = db
        self.ca, cert, key = apitest.make_ca(work)
        conninfo, self.user = apitest.monitor_role_conninfo(db)
        self.keys = {}
        for name, status in (("fra1", "active"), ("sleepy", "paused")):
            out = db.ctl("monitor", "add", name, "--status", status)
            check(out.returncode == 0, "monitor add " + name)
            self.keys[name] = [l.split(" ", 1)[1] for l in out.stdout.splitlines() if l.startswith("key: ")][0]
        out = db.ctl("monitor", "set-address", "fra1", "198.51.100.7")
        check(out.returncode == 0 and "198.51.100.7" in out.stdout, "timepoolctl monitor set-address")
        self.s1 = db.one("INSERT INTO servers (address, country) VALUES ('192.0.2.1', 'de') RETURNING id")
        self.s2 = db.one("INSERT INTO servers (address, country) VALUES ('192.0.2.2', 'de') RETURNING id")
        self.near = db.one("INSERT INTO servers (address, country) VALUES ('198.51.100.9', 'de') RETURNING id")
        self.gone = db.one("INSERT INTO servers (address, country, deleted_at) "
                           "VALUES ('192.0.2.3', 'de', now() - interval '3 days') RETURNING id")
        self.api = apitest.Api(conninfo, tls=(cert, key), workdir=work)
        check(self.api.scheme == "https", "the API serves HTTPS")
        self.url = self.api.url
        self.k = self.keys["fra1"]

    def post(self, body, key=None):
        return apitest.request(self.url + "/v1/results", key or self.k, body, ca=self.ca)

    def refused(self, body, status, reason, what, raw=None):
        """The batch is refused with `status` and `reason`, and nothing is written."""
        before = self.db.one("SELECT count(*) FROM probe_log")
        st, r = apitest.request(self.url + "/v1/results", self.k, body, ca=self.ca, raw=raw)
        check(st == status and isinstance(r, dict) and r.get("error") == reason,
              "%s: %s %s" % (what, st, r))
        check(self.db.one("SELECT count(*) FROM probe_log") == before, what + ": nothing written")


def tls_and_keys(w):
    try:
        urllib.request.urlopen(w.url + "/v1/assignment", timeout=5,
                               context=ssl.create_default_context())
        check(False, "a client without the CA must not connect")
    except urllib.error.URLError as e:
        check("CERTIFICATE_VERIFY_FAILED" in str(e), "a client without the private CA refuses the certificate")
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/v1/assignment" % w.api.port, timeout=5)
        check(False, "plain HTTP must not be served on the HTTPS port")
    except Exception:
        check(True, "plain HTTP gets no answer on the HTTPS port")
    st, body = apitest.request(w.url + "/v1/assignment", "0" * 64, ca=w.ca)
    check(st == 401 and body["error"] == "unauthorized", "a wrong key is refused (%s)" % st)
    st, _ = apitest.request(w.url + "/v1/assignment", None, ca=w.ca)
    check(st == 401, "no key is refused")


def assignment(w):
    st, a = apitest.request(w.url + "/v1/assignment", w.k, ca=w.ca)
    check(st == 200 and a["monitor"] == "fra1" and a["status"] == "active", "assignment for fra1")
    check(a["servers"] == [], "a monitor with an address probes only its pairs: none before the "
          "selector ran (%s)" % a["servers"])
    w.db.q("SELECT select_monitors()")
    st, a = apitest.request(w.url + "/v1/assignment", w.k, ca=w.ca)
    ids = sorted(s["id"] for s in a["servers"])
    check(ids == sorted([w.s1, w.s2]), "assigned %s: every server but the one in its /24 and the deleted one" % ids)
    check(a["interval_ms"] == 540000 and all(s["pair"] == "testing" for s in a["servers"]),
          "schedule hints: a 9-minute interval; every pair testing (the selector's first review "
          "fills the testing places)")


def batch_applied_once(w):
    """A batch, scored centrally, written once."""
    db, s1, s2 = w.db, w.s1, w.s2
    t0 = now_us(-60)
    batch = {"batch_id": "fra1-000001", "results": [
        result(s1, t0, [{"kind": "timeout"}, reply(0.002)]),
        result(s1, t0 + 10_000_000, [reply(0.001)]),
        result(s2, t0, [reply(5.0)]),
        result(s1, t0 + 20_000_000, [reply(0.05)])]}
    st, r = w.post(batch)
    check(st == 200 and r == {"batch_id": "fra1-000001", "duplicate": False, "results": 4, "scored": 4},
          "the batch is applied: %s %s" % (st, r))
    scores = [float(x) for (x,) in db.q("SELECT score FROM probe_log WHERE server_id = %s ORDER BY ts", s1)]
    step3 = min(1, -6.667 * 0.05 + 1.167)
    want = [1, 0.95 + 1, 0.95 * 1.95 + step3]
    check(len(scores) == 3 and all(abs(a - b) < 1e-4 for a, b in zip(scores, want)),
          "s1 scored centrally: %s (want %s)" % (scores, want))
    check(float(db.one("SELECT score FROM probe_log WHERE server_id = %s", s2)) == -20,
          "s2 5 s wrong: -4 and the -20 cap")
    latest = float(db.one("SELECT score FROM server_scores WHERE server_id = %s", s1))
    check(abs(latest - want[-1]) < 1e-4, "server_scores has the latest score")
    pool = float(db.one("SELECT score FROM servers WHERE id = %s", s1))
    check(abs(pool - want[-1]) < 1e-4, "the pool score follows (one testing monitor)")
    check(db.one("SELECT last_seen IS NOT NULL FROM monitors WHERE name = 'fra1'"), "last_seen is set")

    st, r = w.post(batch)
    check(st == 200 and r["duplicate"] is True, "the same batch again is acknowledged as a duplicate")
    check(db.one("SELECT count(*) FROM probe_log") == 4, "and written nowhere again (4 rows)")
    check(db.one("SELECT probes FROM server_scores WHERE server_id = %s", s1) == 3,
          "server_scores counts 3 probes of s1, not 6")


def refusals(w):
    """Refusals: counted, written nowhere."""
    s1 = w.s1
    w.refused({"batch_id": "u1", "results": [result(s1, now_us()), result(w.near, now_us())]},
              422, "unassigned", "a server in the monitor's own /24")
    w.refused({"batch_id": "u2", "results": [result(999999, now_us())]}, 422, "unassigned",
              "a server that does not exist")
    w.refused({"batch_id": "u3", "results": [result(w.gone, now_us())]}, 422, "unassigned",
              "a server deleted 3 days ago")
    w.refused({"batch_id": "f1", "results": [result(s1, now_us(3600))]}, 422, "future",
              "a result an hour in the future")
    w.refused({"batch_id": "p1", "results": [result(s1, now_us(-3 * 86400))]}, 422, "too_old",
              "a result three days old")
    w.refused(None, 400, "malformed", "a body that is not JSON", raw=b"{not json")
    w.refused({"batch_id": "m1", "results": [{"server_id": s1, "started_us": now_us()}]}, 400,
              "malformed", "a result without clock and packets")
    w.refused({"batch_id": "bad id!", "results": [result(s1, now_us())]}, 400, "malformed",
              "a batch id with a space")
    check(w.db.one("SELECT count(*) FROM monitor_batches") == 1, "only the applied batch id is recorded")


def no_chosen_scores(w):
    """A lying monitor cannot choose a score; an unsynchronized clock or a paused monitor
    moves nothing."""
    db, s1, s2 = w.db, w.s1, w.s2
    lie = result(s2, now_us(-5), [dict(reply(0.0, stratum=0, refid="52415445"), rejected="")])
    lie["score"] = 20
    lie["step"] = 1
    st, r = w.post({"batch_id": "fra1-000002", "results": [lie]})
    check(st == 200, "a result with extra fields is accepted (the fields are ignored)")
    step, score, err = db.q("SELECT step, score, error FROM probe_log WHERE server_id = %s "
                            "ORDER BY ts DESC LIMIT 1", s2)[0]
    check(step == -3.5 and abs(score - (0.95 * -20 - 3.5)) < 1e-4 and err == "kod RATE",
          "a stratum-0 RATE reply is scored as the kiss-o'-death it is (%s %s %s)" % (step, score, err))
    unsynced = result(s1, now_us(-4), [reply()], clock={"synchronized": False, "est_error_s": 0,
                                                          "max_error_s": 16})
    st, r = w.post({"batch_id": "fra1-000003", "results": [unsynced]})
    check(st == 200 and r["scored"] == 0, "results taken with an unsynchronized clock move nothing (%s)" % r)
    check(db.one("SELECT count(*) FROM probe_log WHERE server_id = %s", s1) == 3, "nothing written for them")
    st, r = w.post({"batch_id": "s1", "results": [result(s1, now_us())]}, key=w.keys["sleepy"])
    check(st == 403 and r["error"] == "not_probing", "a paused monitor is refused")


def removed_pair(w):
    """A pair the selector removed (recorded here by hand, as it records it): the monitor's
    results are accepted for a day after (taken while paired), not later."""
    db, s2 = w.db, w.s2
    db.q("DELETE FROM server_monitors WHERE server_id = %s", s2)
    db.q("INSERT INTO server_monitors_removed (server_id, monitor_id, removed_at) SELECT %s, id, "
         "now() - interval '2 days' FROM monitors WHERE name = 'fra1'", s2)
    w.refused({"batch_id": "r1", "results": [result(s2, now_us(-1))]}, 422, "unassigned",
              "a server unpaired from the monitor two days ago")
    db.q("UPDATE server_monitors_removed SET removed_at = now() - interval '5 minutes'")
    st, r = w.post({"batch_id": "r2", "results": [result(s2, now_us(-1))]})
    check(st == 200 and r["scored"] == 1, "one unpaired 5 minutes ago: accepted (%s %s)" % (st, r))


def new_key(w):
    """A new key: the old one stops working at once. Returns the new key."""
    out = w.db.ctl("monitor", "key", "fra1")
    fresh = [l.split(" ", 1)[1] for l in out.stdout.splitlines() if l.startswith("key: ")]
    check(out.returncode == 0 and len(fresh) == 1 and fresh[0] != w.k, "timepoolctl monitor key prints a new key")
    st, _ = apitest.request(w.url + "/v1/assignment", w.k, ca=w.ca)
    check(st == 401, "the old key is refused after timepoolctl monitor key")
    st, a = apitest.request(w.url + "/v1/assignment", fresh[0], ca=w.ca)
    check(st == 200 and a["monitor"] == "fra1", "the new key works")
    return fresh[0]


def counted(w):
    m = w.api.metrics()
    check(m.get("timepool_monitor_api_unauthorized_total") == 3, "3 unauthorized requests counted")
    for reason, n in (("unassigned", 4), ("future", 1), ("too_old", 1), ("malformed", 3)):
        got = m.get('timepool_monitor_api_batches_refused_total{reason="%s"}' % reason)
        check(got == n, "%d refused as %s counted (%s)" % (n, reason, got))
    check(m.get("timepool_monitor_api_batches_duplicate_total") == 1, "1 duplicate counted")
    check(m.get("timepool_monitor_api_batches_total") == 4, "4 batches applied")
    check(m.get("timepool_monitor_api_not_probing_total") == 1, "1 paused monitor's batch counted")


def main():
    if shutil.which("openssl") is None:
        tptest.fail("openssl not found (run deploy/install-deps.sh)")
    work = tempfile.mkdtemp(prefix="tp-api-")
    db = tptest.Database("tpapi_")
    w = None
    try:
        w = World(work, db)
        tls_and_keys(w)
        assignment(w)
        batch_applied_once(w)
        refusals(w)
        no_chosen_scores(w)
        removed_pair(w)
        key = new_key(w)
        counted(w)
        database_restart(w.api, db, w.user, key, w.ca)
        w.api.stop()
        check("refused (unassigned)" in w.api.log_text(), "refusals are logged with their reason")
    finally:
        if w and w.api:
            w.api.kill()
        db.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0

if __name__ == "__main__":
    sys.exit(main())
