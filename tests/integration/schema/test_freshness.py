"""Stale means out, an outage never empties the pool (schema/0013_monitor_selection.sql).
monitoring_check() is the periodic check; time passes by moving the recorded times back.
A server whose only monitor stopped while another monitor keeps scoring leaves DNS once its pool
score is older than the freshness window (not before), with NOTIFY timepool_dns; a fresh score
brings it back. When no monitor at all reports for outage_after, the in-DNS set stays exactly
as it was however long the outage lasts, monitoring_outage says so, and after it ends the
monitors get one freshness window to catch up before anyone is judged stale."""
import os
import select
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import tptest  # noqa: E402
from tptest import check  # noqa: E402


class World:
    """Monitors, servers and their scores in a fresh database, and what DNS sees of them."""

    def __init__(self, db):
        self.db = db

    def monitor(self, name):
        return self.db.one("INSERT INTO monitors (name, key_hash, status) "
                           "VALUES (%s, md5(%s), 'active') RETURNING id", name, name)

    def server(self, address):
        return self.db.one("INSERT INTO servers (address, country, netspeed) "
                           "VALUES (%s, 'de', 1500) RETURNING id", address)

    def report(self, mon, srv, score=18, minutes_ago=0):
        """A monitor's score, `minutes_ago`, and the pool score refreshed then."""
        self.db.q("INSERT INTO server_scores (server_id, monitor_id, score, updated_at) "
                  "VALUES (%s, %s, %s, now() - make_interval(mins => %s)) "
                  "ON CONFLICT (server_id, monitor_id) DO UPDATE "
                  "SET score = EXCLUDED.score, updated_at = EXCLUDED.updated_at",
                  srv, mon, score, minutes_ago)
        self.db.q("SELECT refresh_pool_score(ARRAY[%s]::bigint[])", srv)
        self.db.q("UPDATE servers SET score_updated_at = now() - make_interval(mins => %s) "
                  "WHERE id = %s", minutes_ago, srv)

    def in_dns(self):
        return sorted(r[0] for r in self.db.q("SELECT host(address) FROM eligible_servers"))

    def check_now(self):
        return self.db.one("SELECT monitoring_check()")

    def outage(self):
        return self.db.one("SELECT outage FROM monitoring_outage")


def wait_told(listen):
    """The payloads of the NOTIFYs that arrive until 'servers' does."""
    got = []

    def told():
        if select.select([listen], [], [], 0.2)[0]:
            listen.poll()
        while listen.notifies:
            got.append(listen.notifies.pop(0).payload)
        return "servers" in got
    tptest.wait_until(told, 10, "NOTIFY timepool_dns 'servers'")
    return got


def stale_server_leaves(w, m1, m2, a, b, c):
    db = w.db
    window = db.one("SELECT extract(epoch FROM freshness_window)::int / 60 "
                    "FROM monitoring_settings")
    check(window == 45, "the freshness window is 45 minutes by default (%s)" % window)
    # m1 scores a and b; c's only monitor m2 stopped 40 minutes ago: inside the window.
    w.report(m1, a)
    w.report(m1, b)
    w.report(m2, c, minutes_ago=40)
    check(w.in_dns() == ["192.0.2.1", "192.0.2.2", "192.0.2.3"], "all three are in DNS")
    check(w.check_now() == 0 and not w.outage(),
          "40 minutes after c's last score, within the window: nothing is stale, no outage")
    check(w.in_dns() == ["192.0.2.1", "192.0.2.2", "192.0.2.3"], "c is still in DNS")

    # 46 minutes: c leaves DNS; a and b, scored normally, stay.
    w.report(m2, c, minutes_ago=46)
    listen = db.connect()
    listen.cursor().execute("LISTEN timepool_dns")
    check(w.check_now() == 1, "one server became stale")
    check(w.in_dns() == ["192.0.2.1", "192.0.2.2"], "c leaves DNS after its window (%s)"
          % w.in_dns())
    got = wait_told(listen)
    check(got == ["servers"], "DNS is told once (NOTIFY timepool_dns 'servers': %s)" % got)
    listen.close()
    check(db.one("SELECT server_in_dns(s) FROM servers s WHERE id = %s", c) is False,
          "server_in_dns has the freshness test")
    check(w.check_now() == 0, "a second check changes nothing")
    # Its monitor is back: a fresh score brings it back at once.
    w.report(m2, c)
    check(w.in_dns() == ["192.0.2.1", "192.0.2.2", "192.0.2.3"], "a fresh score brings c back")


def outage_freezes(w, m1, m2, a, b, c):
    db = w.db

    # All monitors stop. 10 minutes: not yet an outage (outage_after is 15 minutes).
    def all_quiet(minutes):
        for mon, srv in ((m1, a), (m1, b), (m2, c)):
            w.report(mon, srv, minutes_ago=minutes)
    all_quiet(10)
    check(w.check_now() == 0 and not w.outage(), "10 minutes of silence is no outage yet")
    all_quiet(16)
    check(w.check_now() == 0 and w.outage(), "16 minutes of silence everywhere: outage")
    since = db.one("SELECT outage_since FROM monitoring_outage")
    check(since is not None, "the outage has a start (%s)" % since)
    # Hours later: every pool score is far older than the window, and nothing leaves.
    all_quiet(300)
    check(w.check_now() == 0 and w.outage(), "5 hours of silence: still an outage")
    check(w.in_dns() == ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
          "the in-DNS set is frozen during the outage (%s)" % w.in_dns())
    check(db.one("SELECT seconds_since_report >= 300 * 60 FROM monitoring_outage"),
          "monitoring_outage says how long no monitor has reported")
    # The dead monitor m2 never returns; m1 comes back. The outage ends, and for one window
    # nobody is judged: m1 has not reached b yet, c has no monitor at all.
    w.report(m1, a)
    check(w.check_now() == 0 and not w.outage(), "a monitor reports again: the outage is over")
    check(db.one("SELECT outage_since IS NULL AND outage_ended_at IS NOT NULL "
                 "FROM monitoring_state"), "the end of the outage is recorded")
    check(w.in_dns() == ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
          "right after the outage nothing is stale: the monitors catch up first")
    # One window later m1 has scored b again; c is still unscored and leaves.
    db.q("UPDATE monitoring_state SET outage_ended_at = now() - interval '46 minutes'")
    w.report(m1, a)
    w.report(m1, b)
    check(w.check_now() == 1, "one window after the outage the unscored server is stale")
    check(w.in_dns() == ["192.0.2.1", "192.0.2.2"], "c leaves, a and b stay (%s)" % w.in_dns())


def windows_in_seconds(w, m1, a):
    """Monitors that probe every few seconds are judged on that scale (schema 0030), down to a
    floor."""
    w.db.q("UPDATE monitoring_settings SET freshness_window = '20 seconds', "
           "outage_after = '8 seconds'")
    w.report(m1, a)
    w.db.q("UPDATE servers SET score_updated_at = now() - interval '21 seconds' WHERE id = %s", a)
    check(w.check_now() == 1 and w.in_dns() == [],
          "with a 20-second window a 21-second-old pool score is stale")
    for key, value in (("freshness_window", "9 seconds"), ("outage_after", "4 seconds")):
        try:
            w.db.q("UPDATE monitoring_settings SET %s = %%s::interval" % key, value)
            refused = False
        except Exception:  # psycopg2.errors.CheckViolation
            refused = True
        check(refused, "%s = %s is refused (below its floor)" % (key, value))


def main():
    db = tptest.Database("tp_fresh_")
    try:
        w = World(db)
        m1, m2 = w.monitor("m1"), w.monitor("m2")
        a, b, c = w.server("192.0.2.1"), w.server("192.0.2.2"), w.server("192.0.2.3")
        stale_server_leaves(w, m1, m2, a, b, c)
        outage_freezes(w, m1, m2, a, b, c)
        # The settings are one row an admin changes: a shorter window judges sooner.
        db.q("UPDATE monitoring_settings SET freshness_window = '5 minutes'")
        w.report(m1, b, minutes_ago=6)
        check(w.check_now() == 1 and w.in_dns() == ["192.0.2.1"],
              "with a 5-minute window a 6-minute-old pool score is stale")
        windows_in_seconds(w, m1, a)
    finally:
        db.close()
    print("PASS")


if __name__ == "__main__":
    main()
