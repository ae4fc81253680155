"""The monitoring upkeep that timepool-web runs (web/monitoring_job.hpp), with timepool-web
connected as a login user of the timepool_web role: the selector makes the first testing pairs,
a server whose only monitor stopped while another server is scored normally leaves DNS, and
when no monitor reports at all the outage is logged loudly and shown to admins on every page
while the in-DNS set stays frozen."""
import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import tptest  # noqa: E402
from webtest import Client, TestDatabase, WebServer  # noqa: E402
from tptest import check  # noqa: E402


class AsUser:
    """The test database's conninfo with another login user."""

    def __init__(self, db, user):
        self.text = db.conninfo().replace("user=" + db.env.get("PGUSER", "postgres"),
                                          "user=" + user)

    def conninfo(self):
        return self.text


def main():
    db = TestDatabase()
    user = "tp_web_" + secrets.token_hex(4)
    web = None
    try:
        db.q("CREATE ROLE %s LOGIN IN ROLE timepool_web" % user)
        m1 = db.one("INSERT INTO monitors (name, key_hash, status, address) "
                    "VALUES ('m1', md5('m1'), 'active', '198.51.100.7') RETURNING id")
        m2 = db.one("INSERT INTO monitors (name, key_hash, status, address) "
                    "VALUES ('m2', md5('m2'), 'active', '203.0.113.7') RETURNING id")
        ids = {}
        for addr, mon, age in (("192.0.2.1", m1, 0), ("192.0.2.2", m2, 50)):
            sid = db.one("INSERT INTO servers (address, country, netspeed) "
                         "VALUES (%s, 'de', 1500) RETURNING id", addr)
            db.q("INSERT INTO server_scores (server_id, monitor_id, score, rtt_s, offset_s, "
                 "updated_at) VALUES (%s, %s, 18, 0.01, 0, now() - make_interval(mins => %s))",
                 sid, mon, age)
            db.q("SELECT refresh_pool_score(ARRAY[%s]::bigint[])", sid)
            db.q("UPDATE servers SET score_updated_at = now() - make_interval(mins => %s) "
                 "WHERE id = %s", age, sid)
            ids[addr] = sid

        def in_dns():
            return sorted(r[0] for r in db.q("SELECT host(address) FROM eligible_servers"))
        check(in_dns() == ["192.0.2.1", "192.0.2.2"], "both servers start in DNS")

        web = WebServer(AsUser(db, user), {"monitoring_upkeep_seconds": 1, "findings_job": "false"})
        db.create_admin("admin@example.org", "admin password 123")
        admin = Client(web)
        check(admin.login("admin@example.org", "admin password 123").status == 303, "admin logs in")
        check('id="outage"' not in admin.get("/admin").body, "no outage banner while monitors report")
        tptest.wait_until(lambda: in_dns() == ["192.0.2.1"], 20,
                          "the server whose only monitor stopped 50 minutes ago to leave DNS")
        # Testing first; a later round (every second here) may already have promoted it.
        check(db.one("SELECT status FROM server_monitors WHERE server_id = %s AND monitor_id = %s",
                     ids["192.0.2.1"], m1) in ("testing", "active"),
              "the selector made the measured monitor a testing (or by now active) pair")
        tptest.wait_until(lambda: "monitoring: " in web.log_text(), 10, "the upkeep's log line")

        # Every monitor stops: 20 minutes without a report, then hours.
        db.q("UPDATE server_scores SET updated_at = now() - interval '20 minutes'")
        tptest.wait_until(lambda: "monitoring outage: no monitor has reported" in web.log_text(),
                          20, "the outage to be logged")
        db.q("UPDATE server_scores SET updated_at = now() - interval '3 hours'")
        db.q("UPDATE servers SET score_updated_at = now() - interval '3 hours'")
        mark = len(web.log_text())
        tptest.wait_until(lambda: "monitoring outage" in web.log_text()[mark:], 20,
                          "another round during the outage")
        check(in_dns() == ["192.0.2.1"], "during the outage the in-DNS set is frozen (%s)"
              % in_dns())
        check(db.one("SELECT outage FROM monitoring_outage"), "monitoring_outage says so")
        for path in ("/admin", "/admin/servers", "/zones"):
            page = admin.get(path).body
            check('id="outage"' in page and "Monitoring outage: no monitor has reported" in page,
                  "the outage banner is on the admin's %s" % path)
        check('id="outage"' not in Client(web).get("/zones").body,
              "visitors do not see the banner")
        check("permission denied" not in web.log_text(),
              "the web role may run the upkeep:\n" + web.log_text()[-2000:])
        rc = web.stop()
        web = None
        check(rc == 0, "timepool-web stops cleanly (%s)" % rc)
    finally:
        if web is not None:
            web.stop()
        db.q("DROP ROLE IF EXISTS %s" % user)
        db.close()
    print("PASS")


if __name__ == "__main__":
    main()
