"""The pool score as production computes it: the SQL function refresh_pool_score
(schema/0013_monitor_selection.sql), called after every batch of results (monitor/store.cpp).
The median of the server's active monitors' scores from 20 minutes; with none, its testing
monitors' from 45 minutes; then its candidates' (a monitor without a selection row is one) from
2 hours; paused and globally testing monitors never; the true median (two monitors: their
mean, not the lower one); only the servers asked for; a server without any such score keeps its
score; a scored server is fresh again; NOTIFY timepool_dns when a server crosses 10 and only
then."""
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

    def pair(self, server, status, *names):
        for name in names:
            self.db.q("INSERT INTO server_monitors (server_id, monitor_id, status) "
                      "VALUES (%s, %s, %s)", server, self.monitors[name], status)

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


def windows(p, db):
    """The median of each window in turn, staleness, and servers not asked for. Returns the
    server with four active pairs."""
    # Active pairs 4 9 12 18 -> 10.5 (the median, not the lower 9); the candidate a5's 0 and
    # the testing pair t1's 1 do not count while active pairs have fresh scores.
    act = p.server("192.0.2.1")
    p.pair(act, "active", "a1", "a2", "a3", "a4")
    p.pair(act, "testing", "t1")
    p.scores(act, a1=4, a2=9, a3=12, a4=18, a5=0, t1=1)
    # The active window is 20 minutes: 19 minutes old counts, 21 does not: 3 11 -> 7.
    window = p.server("192.0.2.3")
    p.pair(window, "active", "a1", "a2", "a3")
    p.scores(window, a1=(3, 19), a2=11, a3=(17, 21))
    # No active score within 20 minutes: the testing pairs' from 45 minutes (14 16; the
    # 46-minute 2 is out), not the candidate's 0: 15.
    testing = p.server("192.0.2.6")
    p.pair(testing, "active", "a1")
    p.pair(testing, "testing", "a2", "a3", "a4")
    p.scores(testing, a1=(20, 25), a2=(14, 40), a3=(16, 44), a4=(2, 46), a5=0)
    # Neither: the candidates' from 2 hours (12 18; the 121-minute 1 is out; the paused
    # monitor's 20 and the globally testing monitor's 0 never count): 15.
    cand = p.server("192.0.2.7")
    p.scores(cand, a1=(12, 100), a2=(18, 119), a3=(1, 121), p1=20, t1=(0, 10))
    # Nothing within 2 hours: the server keeps its score and its time, and stays stale.
    stale = p.server("192.0.2.4", score=7)
    db.q("UPDATE servers SET stale_since = now() WHERE id = %s", stale)
    p.scores(stale, a1=(20, 125), p1=20)
    # Fresh scores, but not asked for: untouched.
    other = p.server("192.0.2.5", score=6)
    p.scores(other, a1=20, a2=20)
    # A stale server that gets a fresh score is fresh again.
    back = p.server("192.0.2.8", score=3)
    db.q("UPDATE servers SET stale_since = now() - interval '1 hour' WHERE id = %s", back)
    p.scores(back, a1=19, t1=17)

    n = p.refresh(act, window, testing, cand, stale, back)
    check(n == 5, "refresh_pool_score updates the 5 servers with a score in a window (%s)" % n)
    check(p.score(act) == 10.5, "median of the active pairs 4 9 12 18 is 10.5 (%s)"
          % p.score(act))
    check(p.score(window) == 7, "19 minutes old counts, 21 minutes old does not (%s)"
          % p.score(window))
    check(p.score(testing) == 15, "no fresh active score: testing pairs from 45 minutes (%s)"
          % p.score(testing))
    check(p.score(cand) == 15, "no active or testing score: candidates from 2 hours, "
          "paused and globally testing monitors never (%s)" % p.score(cand))
    check(p.score(stale) == 7 and db.one("SELECT score_updated_at IS NULL AND stale_since IS "
                                          "NOT NULL FROM servers WHERE id = %s", stale),
          "without a score in any window the pool score and staleness stay as they were")
    check(p.score(other) == 6, "a server not asked for is left alone")
    check(p.score(back) == 19 and db.one("SELECT stale_since IS NULL FROM servers "
                                         "WHERE id = %s", back),
          "a stale server with fresh scores gets its score (19) and is fresh again")
    check(db.one("SELECT score_updated_at > now() - interval '1 minute' FROM servers "
                 "WHERE id = %s", act), "score_updated_at is set")
    return act


def odd_count(p, act):
    """Odd count: the middle one."""
    p.pair(act, "active", "a5")
    p.scores(act, a5=1)
    p.refresh(act)
    check(p.score(act) == 9, "median of 1 4 9 12 18 is 9 (%s)" % p.score(act))
    p.scores(act, a5=13)
    p.refresh(act)
    check(p.score(act) == 12, "median of 4 9 12 13 18 is 12 (%s)" % p.score(act))


def notify_on_crossing(p, db):
    """NOTIFY when a server crosses 10, in either direction, and not for other changes.
    (Inserting a server writes its zone rows, which notify on their own: listen after.)"""
    s = p.server("192.0.2.9", score=8)
    listen = Listener(db)
    p.scores(s, a1=9.5, a2=9.9)
    p.refresh(s)
    check(listen.seen() == [], "8 -> 9.7 (below 10): no NOTIFY")
    p.scores(s, a1=10, a2=12)
    p.refresh(s)
    check(p.score(s) == 11 and listen.seen() == ["servers"],
          "9.7 -> 11 (crosses into the pool): NOTIFY timepool_dns 'servers'")
    p.scores(s, a1=15, a2=16)
    p.refresh(s)
    check(p.score(s) == 15.5 and listen.seen() == [], "11 -> 15.5 (stays in): no NOTIFY")
    p.scores(s, a1=4, a2=9)
    p.refresh(s)
    check(p.score(s) == 6.5 and listen.seen() == ["servers"],
          "15.5 -> 6.5 (leaves the pool): NOTIFY timepool_dns 'servers'")
    p.scores(s, a1=3, a2=3)
    p.refresh(s)
    check(listen.seen() == [], "6.5 -> 3 (stays out): no NOTIFY")
    listen.conn.close()


def main():
    db = tptest.Database("tp_score_")
    try:
        p = Pool(db)
        for name in ("a1", "a2", "a3", "a4", "a5"):
            p.monitor(name, "active")
        p.monitor("t1", "testing")
        p.monitor("p1", "paused")
        act = windows(p, db)
        odd_count(p, act)
        notify_on_crossing(p, db)
    finally:
        db.close()
    print("PASS")


if __name__ == "__main__":
    main()
