"""The pool score as production computes it: the SQL function refresh_pool_score
(schema/0004_monitors_scores.sql), which the monitor API calls after every batch of results
(monitor/store.cpp). Several active monitors, a testing one, one whose score is older than the
20-minute window; the lower median; only the servers asked for; a server without a fresh score
keeps its score; NOTIFY timepool_dns when a server crosses 10 and only then."""
import os
import select
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import tptest  # noqa: E402
from tptest import check  # noqa: E402


class Pool:
    def __init__(self, db):
        self.db = db
        self.monitors = {}

    def monitor(self, name, status):
        self.monitors[name] = self.db.one(
            "INSERT INTO monitors (name, key_hash, status) VALUES (%s, md5(%s), %s) RETURNING id",
            name, name, status)

    def server(self, address, score=0.0):
        return self.db.one("INSERT INTO servers (address, country, netspeed, score) "
                           "VALUES (%s, 'de', 1500, %s) RETURNING id", address, score)

    def scores(self, server, **by_monitor):
        """by_monitor: name=score or name=(score, minutes ago)."""
        for name, v in by_monitor.items():
            score, age = v if isinstance(v, tuple) else (v, 0)
            self.db.q("INSERT INTO server_scores (server_id, monitor_id, score, updated_at) "
                      "VALUES (%s, %s, %s, now() - make_interval(mins => %s)) "
                      "ON CONFLICT (server_id, monitor_id) DO UPDATE "
                      "SET score = EXCLUDED.score, updated_at = EXCLUDED.updated_at",
                      server, self.monitors[name], score, age)

    def refresh(self, *servers):
        return self.db.one("SELECT refresh_pool_score(%s::bigint[])", list(servers))

    def score(self, server):
        return self.db.one("SELECT score FROM servers WHERE id = %s", server)


class Listener:
    """LISTEN timepool_dns on a connection of its own. seen() returns the payloads that arrived
    before a marker NOTIFY sent now: notifications are delivered in commit order, so everything
    committed earlier is in, and nothing depends on a sleep."""

    def __init__(self, db):
        self.db = db
        self.conn = db.connect()
        self.conn.cursor().execute("LISTEN timepool_dns")
        self.marks = 0

    def seen(self):
        self.marks += 1
        mark = "mark-%d" % self.marks
        self.db.q("SELECT pg_notify('timepool_dns', %s)", mark)
        got = []

        def arrived():
            if select.select([self.conn], [], [], 0.2)[0]:
                self.conn.poll()
            while self.conn.notifies:
                got.append(self.conn.notifies.pop(0).payload)
            return mark in got
        tptest.wait_until(arrived, 10, "the marker NOTIFY")
        return got[:got.index(mark)]


def main():
    db = tptest.Database("tp_score_")
    try:
        p = Pool(db)
        for name in ("a1", "a2", "a3", "a4", "a5"):
            p.monitor(name, "active")
        p.monitor("t1", "testing")
        p.monitor("t2", "testing")
        p.monitor("p1", "paused")

        # Lower median of an even count: 4 9 12 18 -> 9 (not 12, not the mean 10.75).
        even = p.server("192.0.2.1")
        p.scores(even, a1=4, a2=9, a3=12, a4=18)
        # Testing and paused monitors do not count: 5 15 16 -> 15 (with t1, t2: 5).
        testing = p.server("192.0.2.2")
        p.scores(testing, a1=5, a2=15, a3=16, t1=1, t2=2, p1=0)
        # The window is 20 minutes: 19 minutes old counts, 21 does not: 3 11 -> 3 (with the
        # 21-minute 17: 11; without the 19-minute 3: 11).
        window = p.server("192.0.2.3")
        p.scores(window, a1=(3, 19), a2=11, a3=(17, 21))
        # Nothing fresh from an active monitor: the server keeps its score and its time.
        stale = p.server("192.0.2.4", score=7)
        p.scores(stale, a1=(20, 25), t1=20)
        # Fresh scores, but not asked for: untouched.
        other = p.server("192.0.2.5", score=6)
        p.scores(other, a1=20, a2=20)

        n = p.refresh(even, testing, window, stale)
        check(n == 3, "refresh_pool_score updates the 3 servers with a fresh active score (%s)" % n)
        check(p.score(even) == 9, "lower median of 4 9 12 18 is 9 (%s)" % p.score(even))
        check(p.score(testing) == 15, "testing and paused monitors' scores do not count (%s)"
              % p.score(testing))
        check(p.score(window) == 3, "19 minutes old counts, 21 minutes old does not (%s)"
              % p.score(window))
        check(p.score(stale) == 7 and db.one("SELECT score_updated_at FROM servers WHERE id = %s",
                                              stale) is None,
              "without a fresh active score the pool score stays as it was")
        check(p.score(other) == 6, "a server not asked for is left alone")
        check(db.one("SELECT score_updated_at > now() - interval '1 minute' FROM servers "
                     "WHERE id = %s", even), "score_updated_at is set")
        # Odd count: the middle one.
        p.scores(even, a5=1)
        p.refresh(even)
        check(p.score(even) == 9, "median of 1 4 9 12 18 is 9 (%s)" % p.score(even))
        p.scores(even, a5=13)
        p.refresh(even)
        check(p.score(even) == 12, "median of 4 9 12 13 18 is 12 (%s)" % p.score(even))

        # NOTIFY when a server crosses 10, in either direction, and not for other changes.
        # (Inserting a server writes its zone rows, which notify on their own: listen after.)
        s = p.server("192.0.2.9", score=8)
        listen = Listener(db)
        p.scores(s, a1=9.5, a2=9.9)
        p.refresh(s)
        check(listen.seen() == [], "8 -> 9.5 (below 10): no NOTIFY")
        p.scores(s, a1=10, a2=12)
        p.refresh(s)
        check(p.score(s) == 10 and listen.seen() == ["servers"],
              "9.5 -> 10 (crosses into the pool): NOTIFY timepool_dns 'servers'")
        p.scores(s, a1=15, a2=16)
        p.refresh(s)
        check(p.score(s) == 15 and listen.seen() == [], "10 -> 15 (stays in): no NOTIFY")
        p.scores(s, a1=4, a2=9.99)
        p.refresh(s)
        check(p.score(s) == 4 and listen.seen() == ["servers"],
              "15 -> 4 (leaves the pool): NOTIFY timepool_dns 'servers'")
        p.scores(s, a1=3, a2=3)
        p.refresh(s)
        check(listen.seen() == [], "4 -> 3 (stays out): no NOTIFY")
        listen.conn.close()
    finally:
        db.close()
    print("PASS")


if __name__ == "__main__":
    main()
