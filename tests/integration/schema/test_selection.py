"""The per-server monitor selector select_monitors() (schema/0013_monitor_selection.sql and
0028_selection_incremental.sql), run against a real PostgreSQL, with every server reviewed at
every run and room for every monitor as a candidate (test_selection_review.py covers the bounded
candidate set and which servers a run reviews): a monitor in the server's /24 (or /48) or
without a known address is never selected; at most two monitors of one account serve a server; candidates become testing,
testing become active, by round-trip time plus distance from the other monitors' median offset;
a monitor whose offset disagrees is not made active however short its round trip; a globally
testing monitor is never active; hysteresis keeps pairs from flapping on small differences; the
configured counts hold; a pair that may no longer serve is removed; the pool score then follows
the active pairs."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import tptest  # noqa: E402
from tptest import check  # noqa: E402


class World:
    """Two servers (IPv4 and IPv6) and monitors around them: the best, an account's three, a
    skewed one, one in the server's /24, one in the IPv6 server's /48, one without an address
    and a globally testing one."""

    def __init__(self, db):
        self.db = db
        db.q("UPDATE monitoring_settings SET active_monitors = 2, testing_monitors = 2, "
             "candidate_monitors = 20, new_candidates = 20, review_interval = '0'")
        acct = db.one("INSERT INTO accounts (email, password_hash) VALUES ('x@example.org', 'h') "
                      "RETURNING id")
        self.srv = db.one("INSERT INTO servers (address, country, netspeed) "
                          "VALUES ('192.0.2.10', 'de', 1500) RETURNING id")
        self.srv6 = db.one("INSERT INTO servers (address, country, netspeed) "
                           "VALUES ('2001:db8:1:2::10', 'de', 1500) RETURNING id")
        self.mons = {}
        self.monitor("m1", "198.51.100.1")
        self.monitor("x2", "198.51.101.1", account=acct)
        self.monitor("x3", "198.51.102.1", account=acct)
        self.monitor("x4", "198.51.103.1", account=acct)
        self.monitor("skew", "198.51.104.1")
        self.monitor("same24", "192.0.2.200")        # the server's own /24
        self.monitor("same48", "2001:db8:1:ffff::1")  # the IPv6 server's own /48
        self.monitor("noaddr", None)
        self.monitor("newbie", "198.51.105.1", status="testing")
        for name, rtt, off in (("m1", .010, 0), ("x2", .013, .001), ("x3", .012, 0),
                               ("x4", .011, 0), ("skew", .002, .5), ("same24", .0001, 0),
                               ("newbie", .0005, 0)):
            self.measured(name, rtt, off)

    def monitor(self, name, address, status="active", account=None):
        self.mons[name] = self.db.one(
            "INSERT INTO monitors (name, key_hash, status, address, account_id)"
            " VALUES (%s, md5(%s), %s, %s, %s) RETURNING id", name, name, status, address, account)

    def measured(self, name, rtt, offset=0.0, score=18, server=None):
        self.db.q("INSERT INTO server_scores (server_id, monitor_id, score, rtt_s, offset_s) "
                  "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (server_id, monitor_id) DO UPDATE "
                  "SET rtt_s = EXCLUDED.rtt_s, offset_s = EXCLUDED.offset_s, "
                  "score = EXCLUDED.score, updated_at = now()",
                  server or self.srv, self.mons[name], score, rtt, offset)

    def pairs(self, server=None):
        return dict(self.db.q("SELECT mo.name, sm.status FROM server_monitors sm "
                              "JOIN monitors mo ON mo.id = sm.monitor_id WHERE server_id = %s",
                              server or self.srv))

    def with_status(self, status, server=None):
        return sorted(n for n, s in self.pairs(server).items() if s == status)

    def run(self):
        """One select_monitors() run, checked for the rules that always hold; returns its count."""
        n = self.db.one("SELECT select_monitors()")
        p = self.pairs()
        chosen = [n for n, s in p.items() if s in ("active", "testing")]
        check(sum(1 for n in chosen if n.startswith("x")) <= 2,
              "never more than two monitors of one account (%s)" % p)
        check("same24" not in p and "noaddr" not in p,
              "no pair for a monitor in the server's /24 or without an address (%s)" % p)
        check(len(self.with_status("active")) <= 2 and len(self.with_status("testing")) <= 2,
              "the configured counts hold (%s)" % p)
        return n


def first_runs(w):
    w.run()
    check(w.with_status("active") == [], "first run: nobody is active straight from candidate")
    check(w.with_status("testing") == ["m1", "x4"],
          "first run: the two best round trips of monitors that may become active are "
          "testing (%s)" % w.pairs())
    check(w.with_status("candidate") == ["newbie", "same48", "skew", "x2", "x3"],
          "the rest are candidates (%s)" % w.pairs())
    check("same48" in w.pairs(w.srv) and "same48" not in w.pairs(w.srv6),
          "a monitor in the server's /48 serves IPv4 servers but not that IPv6 server")

    w.run()
    check(w.with_status("active") == ["m1", "x4"], "second run: testing become active (%s)"
          % w.pairs())
    check(w.with_status("testing") == ["skew", "x3"],
          "the next best two are testing; x2 is the account's third (%s)" % w.pairs())
    check(w.run() == 0, "third run: nothing changes")
    check(w.with_status("active") == ["m1", "x4"],
          "skew (2 ms round trip, 500 ms off the median offset) is not made active")


def hysteresis(w):
    # x3 a little faster than active x4 (11.5 vs 11 ms... now 10.5): no change.
    w.measured("x3", .0105)
    check(w.run() == 0 and w.with_status("active") == ["m1", "x4"],
          "a testing pair slightly better than an active one does not take its place")
    # Clearly better: it does, and x4 steps back to testing.
    w.measured("x3", .004)
    w.run()
    check(w.with_status("active") == ["m1", "x3"] and "x4" in w.with_status("testing"),
          "a clearly better testing pair becomes active (%s)" % w.pairs())
    check(w.run() == 0, "and stays so")


def pool_score(w):
    # m1 and x3 (active) say 18, the others 2.
    for name in ("x2", "x4", "skew", "newbie"):
        w.db.q("UPDATE server_scores SET score = 2 WHERE server_id = %s AND monitor_id = %s",
               w.srv, w.mons[name])
    w.db.q("SELECT refresh_pool_score(ARRAY[%s]::bigint[])", w.srv)
    check(w.db.one("SELECT score FROM servers WHERE id = %s", w.srv) == 18,
          "the pool score is the active pairs' median")


def pairs_lost(w):
    # A monitor that moves into the server's /24 loses its pair; a paused one too.
    w.db.q("UPDATE monitors SET address = '192.0.2.99' WHERE name = 'm1'")
    w.db.q("UPDATE monitors SET status = 'paused' WHERE name = 'skew'")
    w.run()
    check("m1" not in w.pairs() and "skew" not in w.pairs(),
          "pairs that may no longer serve are removed (%s)" % w.pairs())
    check(w.with_status("active") == ["x3", "x4"],
          "the testing x4 takes the free active place (%s)" % w.pairs())
    check(w.with_status("testing") == ["newbie", "same48"],
          "the testing places are filled from the candidates; x2 is still the account's "
          "third (%s)" % w.pairs())
    w.measured("newbie", .0001)
    for _ in range(3):
        w.run()
    check("newbie" not in w.with_status("active"),
          "a globally testing monitor is never active, however good (%s)" % w.pairs())


def main():
    db = tptest.Database("tp_select_")
    try:
        w = World(db)
        first_runs(w)
        hysteresis(w)
        pool_score(w)
        pairs_lost(w)
    finally:
        db.close()
    print("PASS")


if __name__ == "__main__":
    main()
