"""The bounded, incremental selector (schema/0028_selection_incremental.sql), with its default
counts (5 active, 3 testing, up to 4 candidates, 2 new candidates per review), run against a real
PostgreSQL:
- a server gets new candidates a few at a time and never more than active + testing +
  candidate_monitors pairs, never a monitor in its own /24;
- a run reviews only the servers that are due: a settled server is not looked at again until
  its review interval has passed, however its scores changed; then the measured pairs move up;
- a monitor that is paused or moves makes its servers due at the next run (its pairs go), and
  a demoted one steps back from active at the next run;
- the worst candidate makes room for a monitor not yet tried once it has waited long enough;
- review_batch bounds the servers one run reviews, the longest waiting first;
- a deleted server loses its pairs and its review state."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import tptest  # noqa: E402
from tptest import check  # noqa: E402

TARGET = 5 + 3 + 4
MEASURE = ("INSERT INTO server_scores (server_id, monitor_id, score, rtt_s, offset_s) "
           "SELECT server_id, monitor_id, 18, 0.0001 * power(1.5, monitor_id), 0 "
           "FROM server_monitors WHERE server_id = %s")


class World:
    """One server, 20 monitors each in a /24 of its own and one in the server's /24."""

    def __init__(self, db):
        self.db = db
        self.srv = db.one("INSERT INTO servers (address, country, netspeed) "
                          "VALUES ('192.0.2.10', 'de', 1500) RETURNING id")
        self.mons = {}
        for i in range(1, 21):
            self.mons["m%d" % i] = db.one(
                "INSERT INTO monitors (name, key_hash, status, address) "
                "VALUES (%s, md5(%s), 'active', %s) RETURNING id",
                "m%d" % i, "m%d" % i, "198.51.%d.1" % (100 + i))
        near = db.one("INSERT INTO monitors (name, key_hash, status, address) "
                      "VALUES ('near', md5('near'), 'active', '192.0.2.77') RETURNING id")
        self.names = {v: k for k, v in self.mons.items()}
        self.names[near] = "near"

    def run(self):
        return self.db.one("SELECT select_monitors()")

    def pairs(self, server=None):
        return {self.names[m]: s for m, s in self.db.q(
            "SELECT monitor_id, status FROM server_monitors WHERE server_id = %s",
            server or self.srv)}

    def with_status(self, status):
        return sorted(n for n, s in self.pairs().items() if s == status)

    def removed(self, name):
        return self.db.one("SELECT count(*) FROM server_monitors_removed WHERE server_id = %s "
                           "AND monitor_id = %s", self.srv, self.mons[name]) == 1

    def reviewed_at(self):
        return self.db.one("SELECT reviewed_at FROM server_selection WHERE server_id = %s",
                           self.srv)


def bounded(w):
    sizes = []
    for _ in range(10):
        w.run()
        p = w.pairs()
        sizes.append(len(p))
        check("near" not in p, "a monitor in the server's /24 never gets a pair (%s)" % p)
        check(len(p) <= TARGET, "never more than %d pairs (%s)" % (TARGET, p))
    check(sizes[:6] == [2, 4, 6, 8, 10, 12] and sizes[6:] == [12] * 4,
          "two new candidates per review up to 12 pairs: %s" % sizes)
    check(len(w.with_status("testing")) == 3 and w.with_status("active") == [],
          "unmeasured pairs fill the testing places, none is active (%s)" % w.pairs())


def settled_until_due(w):
    settled = w.reviewed_at()
    check(w.db.one("SELECT next_review > now() + interval '9 minutes' FROM server_selection "
                   "WHERE server_id = %s", w.srv),
          "a review that changed nothing puts the next one about 20 minutes ahead")
    # Every pair measured: the lower the monitor's number, the shorter its round trip (1.5
    # times from one to the next: more than the hysteresis, so the ranking is by number).
    w.db.q(MEASURE, w.srv)
    before = w.pairs()
    check(w.run() == 0 and w.pairs() == before and w.reviewed_at() == settled,
          "new scores alone do not make a settled server due")
    w.db.q("UPDATE server_selection SET next_review = now() - interval '1 second'")
    w.run()
    check(w.reviewed_at() != settled, "once due it is reviewed")
    for _ in range(5):
        w.run()
    paired = sorted(w.pairs(), key=lambda n: w.mons[n])
    check(w.with_status("active") == sorted(paired[:5]),
          "the five shortest round trips are active (%s)" % w.pairs())
    check(w.with_status("testing") == sorted(paired[5:8]), "the next three testing (%s)" % w.pairs())
    check(len(w.pairs()) == TARGET, "still 12 pairs (%s)" % w.pairs())
    return paired


def monitors_change(w, paired):
    w.db.q("UPDATE server_selection SET next_review = now() + interval '1 hour'")
    first, second = paired[0], paired[1]
    w.db.q("UPDATE monitors SET status = 'paused' WHERE name = %s", first)
    w.db.q("SELECT demote_monitor(%s, 'shifted')", w.mons[second])
    w.run()
    p = w.pairs()
    check(first not in p and w.removed(first),
          "a paused monitor's pair goes at the next run, recorded (%s)" % p)
    check(p.get(second) in ("testing", "candidate"),
          "a demoted monitor is no longer active (%s)" % p)
    check(len(w.with_status("active")) == 5, "testing pairs take the free active places (%s)" % p)
    for _ in range(3):
        w.run()
    check(len(w.pairs()) == TARGET, "and the free place gets a new candidate (%s)" % w.pairs())


def rotation(w):
    for _ in range(3):
        w.run()
    w.db.q(MEASURE + " ON CONFLICT DO NOTHING", w.srv)
    candidates = w.with_status("candidate")
    worst = max(candidates, key=lambda n: w.mons[n])
    tried = set(w.pairs())
    w.db.q("UPDATE monitoring_settings SET candidate_rotation = '1 minute'")
    w.db.q("UPDATE server_monitors SET changed_at = now() - interval '2 minutes' "
           "WHERE status = 'candidate'")
    w.db.q("UPDATE server_selection SET next_review = NULL")
    w.run()
    check(worst not in w.pairs() and len(w.pairs()) == TARGET - 1,
          "the worst candidate (%s of %s) made room (%s)" % (worst, candidates, w.pairs()))
    check(w.removed(worst), "its removal is recorded (its last results are still accepted)")
    w.run()
    new = set(w.pairs()) - tried
    check(len(w.pairs()) == TARGET and len(new) == 1 and worst not in new,
          "a monitor not tried before takes its place, once (%s: %s)" % (sorted(new), w.pairs()))
    w.db.q("UPDATE monitoring_settings SET candidate_rotation = '6 hours'")


def batch_and_deletion(w):
    others = [w.db.one("INSERT INTO servers (address, country, netspeed) "
                       "VALUES (%s, 'de', 1500) RETURNING id", "203.0.113.%d" % i)
              for i in (1, 2)]
    w.db.q("UPDATE monitoring_settings SET review_batch = 1")
    w.db.q("UPDATE server_selection SET next_review = now() - interval '1 minute' "
           "WHERE server_id = %s", w.srv)
    last = w.reviewed_at()
    w.run()
    check([len(w.pairs(o)) for o in others] == [2, 0] and w.reviewed_at() == last,
          "with review_batch 1 one run reviews one server, a never reviewed one first")
    w.run()
    check([len(w.pairs(o)) for o in others] == [2, 2] and w.reviewed_at() == last,
          "the next run the other new one")
    w.run()
    check(w.reviewed_at() != last, "then the one that has waited longest")
    w.db.q("UPDATE monitoring_settings SET review_batch = 2500")

    w.db.q("UPDATE servers SET deleted_at = now() WHERE id = %s", others[0])
    w.run()
    check(w.pairs(others[0]) == {} and w.db.one(
        "SELECT count(*) FROM server_selection WHERE server_id = %s", others[0]) == 0,
        "a deleted server loses its pairs and its review state")


def main():
    db = tptest.Database("tp_review_")
    try:
        w = World(db)
        bounded(w)
        paired = settled_until_due(w)
        monitors_change(w, paired)
        rotation(w)
        batch_and_deletion(w)
    finally:
        db.close()
    print("PASS")


if __name__ == "__main__":
    main()
