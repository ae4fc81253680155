"""Least privilege (schema/0013_monitor_selection.sql): the migrations create NOLOGIN group roles
timepool_dns, timepool_web and timepool_monitor. A login user granted timepool_dns cannot read
password hashes or sessions and cannot change a score (directly or through refresh_pool_score);
timepool-dns run as that user loads its snapshot, answers, reports a monitoring outage on
/metrics (timepool_dns_monitoring_outage) and in its log while answering as before, and writes
its statistics at shutdown.
A timepool_monitor user cannot read accounts or set a pool score; a timepool_web user cannot
write scores."""
import os
import secrets
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "dns"))
import psycopg2  # noqa: E402
from dnstest import Database, Dns  # noqa: E402
from tptest import check  # noqa: E402


def refused(conn, sql, *args):
    """True when the statement fails for lack of privilege (SQLSTATE 42501)."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args or None)
        return False
    except psycopg2.Error as e:
        return e.pgcode == "42501"


def works(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args or None)
        return cur.fetchall() if cur.description else True


class Logins:
    """Login users made in the group roles, dropped by drop_all()."""

    def __init__(self, db):
        self.db = db
        self.users = []

    def login(self, role):
        user = "tp_%s_%s" % (role.split("_")[1], secrets.token_hex(4))
        self.db.q("CREATE ROLE %s LOGIN IN ROLE %s" % (user, role))
        self.users.append(user)
        conninfo = self.db.conninfo().replace("user=" + self.db.env.get("PGUSER", "postgres"),
                                              "user=" + user)
        check("user=" + user in conninfo, "conninfo names the login user")
        c = psycopg2.connect(conninfo)
        c.autocommit = True
        return conninfo, c

    def drop_all(self):
        for u in self.users:
            self.db.q("DROP ROLE IF EXISTS %s" % u)


def dns_role(c, sid, mid):
    check(refused(c, "SELECT password_hash FROM accounts"), "DNS role: no password hashes")
    check(refused(c, "SELECT * FROM accounts"), "DNS role: no accounts at all")
    check(refused(c, "SELECT * FROM sessions"), "DNS role: no sessions")
    check(refused(c, "SELECT score FROM servers"), "DNS role: servers only through the view")
    check(refused(c, "UPDATE servers SET score = 20"), "DNS role: cannot change a pool score")
    check(refused(c, "UPDATE server_scores SET score = 20"),
          "DNS role: cannot change a monitor's score")
    check(refused(c, "INSERT INTO server_scores (server_id, monitor_id, score) "
                     "VALUES (%s, %s, 20)", sid, mid), "DNS role: cannot add a score")
    check(refused(c, "SELECT refresh_pool_score(ARRAY[%s]::bigint[])", sid),
          "DNS role: cannot run refresh_pool_score")
    check(refused(c, "SELECT monitoring_check()"), "DNS role: cannot run the freshness check")
    check(works(c, "SELECT host(address) FROM eligible_servers") == [("192.0.2.1",)],
          "DNS role: reads what it serves")
    check(works(c, "SELECT outage FROM monitoring_outage") == [(False,)],
          "DNS role: reads the outage flag")
    check(len(works(c, "SELECT counter FROM dns_change WHERE id")) == 1,
          "DNS role: reads the change counter (polled on a standby)")
    check(refused(c, "UPDATE dns_change SET counter = counter + 1"),
          "DNS role: cannot bump the change counter")


def dns_daemon_as_role(db, dns_conninfo, sid):
    """timepool-dns itself as that user: snapshot, answers, statistics written at shutdown."""
    dns = Dns(dns_conninfo, extra=["--set", "dns.stats_flush_interval=1"])  # started
    try:
        got = dns.addresses("pool.example")
        check(got == ["192.0.2.1"], "timepool-dns as the DNS role answers (%s)" % got)
        check("permission denied" not in dns.log_text(), "no permission errors in its log")

        def outage_metric():
            for line in dns.metrics().splitlines():
                if line.startswith("timepool_dns_monitoring_outage "):
                    return line.split()[1]
            return None
        check(outage_metric() == "0", "a monitor reported just now: outage metric 0 (%s)"
              % outage_metric())
        # Every monitor stops: 20 minutes without a score (outage_after is 15). The next
        # rebuild (on any NOTIFY, or the timer) reports it; the answer stays the same.
        db.q("UPDATE server_scores SET updated_at = now() - interval '20 minutes'")
        db.q("SELECT pg_notify('timepool_dns', 'test')")
        dns.wait_for(lambda: outage_metric() == "1", 20, "the outage metric")
        check("monitoring outage: no monitor has reported for" in dns.log_text(),
              "the outage is logged")
        got = dns.addresses("pool.example")
        check(got == ["192.0.2.1"], "during the outage DNS serves the pool as it was (%s)"
              % got)
        db.q("UPDATE server_scores SET updated_at = now()")
        db.q("SELECT pg_notify('timepool_dns', 'test')")
        dns.wait_for(lambda: outage_metric() == "0", 20, "the outage metric back to 0")
        check("monitoring outage over" in dns.log_text(), "the end of the outage is logged")
    finally:
        dns.stop()
    log = dns.log_text()
    check("permission denied" not in log, "no permission errors up to its stop:\n" + log[-2000:])
    check(db.one("SELECT count(*) FROM dns_stats_flushes") >= 1,
          "its statistics reached the database as the DNS role")
    check(db.one("SELECT sum(count) FROM dns_server_answers WHERE server_id = %s", sid) >= 1,
          "the answer counts of the server were written")


def monitor_role(m, sid):
    check(refused(m, "SELECT password_hash FROM accounts"), "monitor role: no password hashes")
    check(refused(m, "UPDATE servers SET score = 20"),
          "monitor role: cannot set a pool score directly")
    check(works(m, "SELECT refresh_pool_score(ARRAY[%s]::bigint[])", sid) == [(1,)],
          "monitor role: refreshes the pool score through the function")
    check(works(m, "SELECT probe_log_ensure_partitions(current_date + 40, 1)") == [(1,)],
          "monitor role: keeps the probe log's partitions")
    check(refused(m, "UPDATE monitors SET status = 'active'"),
          "monitor role: cannot change its own status")
    check(refused(m, "UPDATE monitors SET demoted_reason = NULL"),
          "monitor role: cannot rewrite why a monitor was moved back to testing")
    check(works(m, "SELECT demote_monitor(0, 'none')") == [(False,)],
          "monitor role: moves a monitor back to testing only through demote_monitor()")


def web_role(db, w, sid):
    check(refused(w, "UPDATE servers SET score = 20"), "web role: cannot write a pool score")
    check(refused(w, "UPDATE server_scores SET score = 20"), "web role: cannot write scores")
    before = db.one("SELECT counter FROM dns_change WHERE id")
    check(works(w, "UPDATE servers SET netspeed = 3000 WHERE id = %s", sid),
          "web role: edits a volunteer's server")
    check(db.one("SELECT counter FROM dns_change WHERE id") > before,
          "and its edit bumps the DNS change counter through the trigger")
    check(works(w, "SELECT count(*) FROM accounts") == [(1,)], "web role: reads accounts")


def main():
    db = Database()
    logins = Logins(db)
    try:
        for r in ("timepool_dns", "timepool_web", "timepool_monitor"):
            check(db.one("SELECT NOT rolcanlogin FROM pg_roles WHERE rolname = %s", r),
                  "%s exists and is a NOLOGIN group role" % r)
        db.q("INSERT INTO accounts (email, password_hash, role) "
             "VALUES ('v@example.org', 'secret-hash', 'volunteer')")
        sid = db.add_server("192.0.2.1", "lu", 1500, score=15.0)
        mid = db.one("INSERT INTO monitors (name, key_hash, status) VALUES ('m1', md5('m1'), "
                     "'active') RETURNING id")
        db.q("INSERT INTO server_scores (server_id, monitor_id, score) VALUES (%s, %s, 15)",
             sid, mid)
        dns_conninfo, c = logins.login("timepool_dns")
        dns_role(c, sid, mid)
        c.close()
        dns_daemon_as_role(db, dns_conninfo, sid)
        _, m = logins.login("timepool_monitor")
        monitor_role(m, sid)
        m.close()
        _, w = logins.login("timepool_web")
        web_role(db, w, sid)
        w.close()
    finally:
        logins.drop_all()
        db.close()
    print("PASS")


if __name__ == "__main__":
    main()
