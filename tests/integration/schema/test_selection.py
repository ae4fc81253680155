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


def main():
    db = tptest.Database("tp_select_")
    try:
        db.q("UPDATE monitoring_settings SET active_monitors = 2, testing_monitors = 2, "
             "candidate_monitors = 20, new_candidates = 20, review_interval = '0'")
        acct = db.one("INSERT INTO accounts (email, password_hash) VALUES ('x@example.org', 'h') "
                      "RETURNING id")
        srv = db.one("INSERT INTO servers (address, country, netspeed) "
                     "VALUES ('192.0.2.10', 'de', 1500) RETURNING id")
        srv6 = db.one("INSERT INTO servers (address, country, netspeed) "
                      "VALUES ('2001:db8:1:2::10', 'de', 1500) RETURNING id")
        mons = {}

        def monitor(name, address, status="active", account=None):
            mons[name] = db.one("INSERT INTO monitors (name, key_hash, status, address, account_id)"
                                " VALUES (%s, md5(%s), %s, %s, %s) RETURNING id",
                                name, name, status, address, account)

        def measured(name, rtt, offset=0.0, score=18, server=srv):
            db.q("INSERT INTO server_scores (server_id, monitor_id, score, rtt_s, offset_s) "
                 "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (server_id, monitor_id) DO UPDATE "
                 "SET rtt_s = EXCLUDED.rtt_s, offset_s = EXCLUDED.offset_s, "
                 "score = EXCLUDED.score, updated_at = now()",
                 server, mons[name], score, rtt, offset)

        monitor("m1", "198.51.100.1")
        monitor("x2", "198.51.101.1", account=acct)
        monitor("x3", "198.51.102.1", account=acct)
        monitor("x4", "198.51.103.1", account=acct)
        monitor("skew", "198.51.104.1")
        monitor("same24", "192.0.2.200")        # the server's own /24
        monitor("same48", "2001:db8:1:ffff::1")  # the IPv6 server's own /48
        monitor("noaddr", None)
        monitor("newbie", "198.51.105.1", status="testing")
        for name, rtt, off in (("m1", .010, 0), ("x2", .013, .001), ("x3", .012, 0),
                               ("x4", .011, 0), ("skew", .002, .5), ("same24", .0001, 0),
                               ("newbie", .0005, 0)):
            measured(name, rtt, off)

        def pairs(server=srv):
            return dict(db.q("SELECT mo.name, sm.status FROM server_monitors sm "
                             "JOIN monitors mo ON mo.id = sm.monitor_id WHERE server_id = %s",
                             server))

        def with_status(status, server=srv):
            return sorted(n for n, s in pairs(server).items() if s == status)

        def run():
            n = db.one("SELECT select_monitors()")
            p = pairs()
            chosen = [n for n, s in p.items() if s in ("active", "testing")]
            check(sum(1 for n in chosen if n.startswith("x")) <= 2,
                  "never more than two monitors of one account (%s)" % p)
            check("same24" not in p and "noaddr" not in p,
                  "no pair for a monitor in the server's /24 or without an address (%s)" % p)
            check(len(with_status("active")) <= 2 and len(with_status("testing")) <= 2,
                  "the configured counts hold (%s)" % p)
            return n

        run()
        check(with_status("active") == [], "first run: nobody is active straight from candidate")
        check(with_status("testing") == ["m1", "x4"],
              "first run: the two best round trips of monitors that may become active are "
              "testing (%s)" % pairs())
        check(with_status("candidate") == ["newbie", "same48", "skew", "x2", "x3"],
              "the rest are candidates (%s)" % pairs())
        check("same48" in pairs(srv) and "same48" not in pairs(srv6),
              "a monitor in the server's /48 serves IPv4 servers but not that IPv6 server")

        run()
        check(with_status("active") == ["m1", "x4"], "second run: testing become active (%s)"
              % pairs())
        check(with_status("testing") == ["skew", "x3"],
              "the next best two are testing; x2 is the account's third (%s)" % pairs())
        check(run() == 0, "third run: nothing changes")
        check(with_status("active") == ["m1", "x4"],
              "skew (2 ms round trip, 500 ms off the median offset) is not made active")

        # Hysteresis: x3 a little faster than active x4 (11.5 vs 11 ms... now 10.5): no change.
        measured("x3", .0105)
        check(run() == 0 and with_status("active") == ["m1", "x4"],
              "a testing pair slightly better than an active one does not take its place")
        # Clearly better: it does, and x4 steps back to testing.
        measured("x3", .004)
        run()
        check(with_status("active") == ["m1", "x3"] and "x4" in with_status("testing"),
              "a clearly better testing pair becomes active (%s)" % pairs())
        check(run() == 0, "and stays so")

        # The pool score follows the active pairs: m1 and x3 say 18, the others 2.
        for name in ("x2", "x4", "skew", "newbie"):
            db.q("UPDATE server_scores SET score = 2 WHERE server_id = %s AND monitor_id = %s",
                 srv, mons[name])
        db.q("SELECT refresh_pool_score(ARRAY[%s]::bigint[])", srv)
        check(db.one("SELECT score FROM servers WHERE id = %s", srv) == 18,
              "the pool score is the active pairs' median")

        # A monitor that moves into the server's /24 loses its pair; a paused one too.
        db.q("UPDATE monitors SET address = '192.0.2.99' WHERE name = 'm1'")
        db.q("UPDATE monitors SET status = 'paused' WHERE name = 'skew'")
        run()
        check("m1" not in pairs() and "skew" not in pairs(),
              "pairs that may no longer serve are removed (%s)" % pairs())
        check(with_status("active") == ["x3", "x4"],
              "the testing x4 takes the free active place (%s)" % pairs())
        check(with_status("testing") == ["newbie", "same48"],
              "the testing places are filled from the candidates; x2 is still the account's "
              "third (%s)" % pairs())
        measured("newbie", .0001)
        for _ in range(3):
            run()
        check("newbie" not in with_status("active"),
              "a globally testing monitor is never active, however good (%s)" % pairs())
    finally:
        db.close()
    print("PASS")


if __name__ == "__main__":
    main()
