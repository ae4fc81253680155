#!/usr/bin/env python3
"""Notices by mail through a real SMTP server (aiosmtpd): a volunteer's server that leaves DNS
produces one notice naming the reason in the words of the owner's page, and one only while the
server flaps within the day; an admin's change to a server and a decision on a zone request
are told to the owner; the account page's preferences turn a kind off (CSRF-protected like
every form)."""

import re

import webtest
from webtest import SmtpSink

ADMIN = "notice-admin@example.org"
ADMIN_PW = "admin password 55"


class Notices(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = SmtpSink()
        cls.mail = {"transport": "smtp", "host": "127.0.0.1", "port": cls.sink.port, "tls": "none",
                    "from": "pool@pool.test", "site_url": "https://pool.test",
                    "interval_seconds": 1, "notice_interval_seconds": 1}
        super().setUpClass()
        cls.db.q("INSERT INTO monitors (name, key_hash, status) VALUES ('mon-n', 'kn', 'active')")
        cls.db.create_admin(ADMIN, ADMIN_PW)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.sink.close()

    def owner(self, address):
        c = self.client()
        email = self.unique_email("owner")
        c.signup(email)
        account = self.db.one("SELECT id FROM accounts WHERE email = %s", email)
        sid = self.db.one("INSERT INTO servers (address, owner_id, netspeed, country, score) "
                          "VALUES (%s, %s, 1500, 'de', 20) RETURNING id", address, account)
        self.wait_scanned(sid, True)
        return c, email, sid

    def wait_scanned(self, sid, in_dns):
        """Until the notice scan has seen the server in (or out of) DNS."""
        webtest.tptest.wait_until(
            lambda: self.db.one("SELECT in_dns FROM notice_server_state WHERE server_id = %s",
                                sid) is in_dns, 20, "the scan saw server %d in_dns=%s" % (sid, in_dns))

    def no_reply(self, sid, n=3):
        for i in range(n):
            self.db.q("INSERT INTO probe_log (ts, server_id, monitor_id, step, score, error) "
                      "SELECT now() - make_interval(secs => %s), %s, id, -5, -5, 'timeout' "
                      "FROM monitors WHERE name = 'mon-n'", 30 + i, sid)
        self.db.q("UPDATE servers SET score = -5 WHERE id = %s", sid)

    def good(self, sid):
        self.db.q("UPDATE servers SET score = 15 WHERE id = %s", sid)

    def mails_to(self, email):
        return [m for r, m in self.sink.messages() if r == [email]]

    def quiet(self, email, expected, scans=3):
        """Lets `scans` more scans run (a server of nobody's goes in and out of DNS, and each
        scan records it), then checks that `email` still has `expected` messages."""
        marker = self.db.one("INSERT INTO servers (address, netspeed, country, score) VALUES "
                             "(('198.18.0.' || (SELECT count(*) + 1 FROM servers))::inet, 1500, 'de', 0) "
                             "RETURNING id")
        self.wait_scanned(marker, False)
        for i in range(scans):
            self.db.q("UPDATE servers SET score = 20 - score WHERE id = %s", marker)
            self.wait_scanned(marker, i % 2 == 0)
        webtest.tptest.wait_until(lambda: self.db.one(
            "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL") == 0, 20, "outbox empty")
        self.assertEqual(len(self.mails_to(email)), expected,
                         [m["Subject"] for m in self.mails_to(email)])

    def test_left_dns_once_a_day_with_the_reason(self):
        c, email, sid = self.owner("198.51.100.61")
        self.no_reply(sid)
        self.wait_scanned(sid, False)
        got = self.sink.wait_messages(1, timeout=30)
        mine = self.mails_to(email)
        self.assertEqual(len(mine), 1, [m["Subject"] for _, m in got])
        msg = mine[0]
        self.assertEqual(msg["Subject"],
                         "Your server 198.51.100.61 left the pool: no reply from the server")
        body = msg.get_content()
        # The same words as the owner's page.
        page = c.get("/servers/%d" % sid).body
        self.assertIn('<h2 id="why-headline">Not in DNS: no reply from the server</h2>', page)
        for sentence in re.findall(r"<li>(No reply in [^<]*)</li>", page):
            self.assertIn(sentence, body)
        self.assertIn("UDP port 123", body)
        self.assertIn("https://pool.test/servers/%d" % sid, body)
        self.assertIn("https://pool.test/account#notices", body)

        # The server flaps within the day: back in DNS, out again, in, out: no second notice.
        for _ in range(2):
            self.good(sid)
            self.wait_scanned(sid, True)
            self.no_reply(sid)
            self.wait_scanned(sid, False)
        self.quiet(email, 1)
        self.assertEqual(self.db.one("SELECT count(*) FROM mail_outbox WHERE account_id = "
                                     "(SELECT id FROM accounts WHERE email = %s)", email), 1)

    def test_admin_change_and_preferences(self):
        c, email, sid = self.owner("198.51.100.62")
        # An admin disables the server with a reason: the owner is told, with it.
        a = self.client()
        self.assertEqual(a.login(ADMIN, ADMIN_PW).status, 303)
        a.get("/admin/servers")
        self.assertEqual(a.post("/admin/servers/%d/disable" % sid,
                                {"action": "disable", "reason": "serves the year 2000"}).status,
                         303)
        webtest.tptest.wait_until(lambda: len(self.mails_to(email)) >= 1, 30, "admin notice")
        msg = self.mails_to(email)[0]
        self.assertEqual(msg["Subject"], "Your server 198.51.100.62 was disabled by an administrator")
        self.assertIn("Their reason: serves the year 2000", msg.get_content())
        # Leaving DNS by an admin's hand is not also a left-DNS notice.
        self.wait_scanned(sid, False)
        self.quiet(email, 1)

        # The owner turns left-DNS notices off; the form needs its CSRF token.
        page = c.get("/account")
        self.assertIn('id="notices"', page.body)
        self.assertIn('value="server-left-dns" checked', page.body)
        self.assertEqual(c.post("/account/notices", {"on": "server-admin"}, csrf=False).status,
                         403)
        r = c.post("/account/notices", {"on": "server-admin"})
        self.assertEqual(r.status, 303)
        self.assertEqual(sorted(self.db.one("SELECT notices_off FROM accounts WHERE email = %s",
                                            email)), ["server-deleted", "server-left-dns"])
        page = c.get("/account")
        self.assertIn('value="server-left-dns">', page.body)
        self.assertIn('value="server-admin" checked', page.body)
        self.assertEqual(self.db.one("SELECT count(*) FROM audit_log WHERE action = "
                                     "'account.notices' AND actor = %s", email), 1)

        # Another of the owner's servers leaves DNS: nothing comes.
        account = self.db.one("SELECT id FROM accounts WHERE email = %s", email)
        other = self.db.one("INSERT INTO servers (address, owner_id, netspeed, country, score) "
                            "VALUES ('198.51.100.63', %s, 1500, 'de', 20) RETURNING id", account)
        self.wait_scanned(other, True)
        self.no_reply(other)
        self.wait_scanned(other, False)
        self.quiet(email, 1)

        # A vendor's request is decided: the vendor is told.
        v = self.client()
        vemail = self.unique_email("vendor")
        v.signup(vemail, role="vendor")
        v.get("/vendor")
        self.assertEqual(v.post("/vendor/request", {
            "name": "noticed-zone", "organization": "N Devices", "contact": "n@b.test",
            "device_description": "clocks", "device_count": "1000", "client_type": "ntp",
            "poll_description": "every 1024 s", "open_source": "no"}).status, 303)
        rid = self.db.one("SELECT id FROM vendor_zones WHERE name = 'noticed-zone'")
        a.get("/admin")
        self.assertEqual(a.post("/admin/vendor/%d/reject" % rid,
                                {"reason": "tell us the polling interval"}).status, 303)
        webtest.tptest.wait_until(lambda: len(self.mails_to(vemail)) >= 1, 30, "decision notice")
        msg = self.mails_to(vemail)[0]
        self.assertEqual(msg["Subject"], "Your zone request noticed-zone was not approved")
        self.assertIn("tell us the polling interval", msg.get_content())

    def test_deletion_approval_and_bursts(self):
        c, email, sid = self.owner("198.51.100.64")
        # The scheduled deletion's date came (purge_deleted_servers): the owner is told; the
        # server leaving DNS when the deletion was scheduled was the owner's own doing.
        self.db.q("UPDATE servers SET deletion_on = current_date WHERE id = %s", sid)
        self.wait_scanned(sid, False)
        self.db.q("SELECT purge_deleted_servers()")
        webtest.tptest.wait_until(lambda: len(self.mails_to(email)) >= 1, 30, "deletion notice")
        self.assertEqual([m["Subject"] for m in self.mails_to(email)],
                         ["Your server 198.51.100.64 was deleted"])

        v = self.client()
        vemail = self.unique_email("vendor")
        v.signup(vemail, role="vendor")
        v.get("/vendor")
        self.assertEqual(v.post("/vendor/request", {
            "name": "bursty-zone", "organization": "B Devices", "contact": "b@b.test",
            "device_description": "clocks", "device_count": "1000", "client_type": "ntp",
            "poll_description": "every 1024 s", "open_source": "no"}).status, 303)
        rid = self.db.one("SELECT id FROM vendor_zones WHERE name = 'bursty-zone'")
        a = self.client()
        self.assertEqual(a.login(ADMIN, ADMIN_PW).status, 303)
        a.get("/admin")
        self.assertEqual(a.post("/admin/vendor/%d/approve" % rid, {}).status, 303)
        webtest.tptest.wait_until(lambda: len(self.mails_to(vemail)) >= 1, 30, "approval notice")
        self.assertEqual(self.mails_to(vemail)[0]["Subject"], "Your zone bursty-zone was approved")

        zid = self.db.one("SELECT zone_id FROM vendor_zones WHERE id = %s", rid)

        def finding(key, warning):
            self.db.q("INSERT INTO zone_findings (zone_id, fkey, kind, period, weekdays, "
                      "window_start, window_minutes, typical_count, factor, first_seen, last_seen, "
                      "window_starts, window_ends, warning) VALUES (%s, %s, 'recurring', 'weekly', "
                      "1, 1185, 5, 5000, 40, now(), now(), '{1}', '{2}', %s)", zid, key, warning)
        finding("weekly-1185", "Every Sunday at 19:45 UTC the zone gets 40 times its usual load.")
        webtest.tptest.wait_until(lambda: len(self.mails_to(vemail)) >= 2, 30, "burst notice")
        msg = self.mails_to(vemail)[1]
        self.assertEqual(msg["Subject"], "Synchronized clients found in your zone bursty-zone")
        self.assertIn("Every Sunday at 19:45 UTC", msg.get_content())
        # Another finding the same day: the zone's vendor was told today already.
        finding("daily-0600", "Every day at 06:00 UTC the zone gets 12 times its usual load.")
        webtest.tptest.wait_until(lambda: self.db.one(
            "SELECT newest_finding >= (SELECT max(first_seen) FROM zone_findings "
            "WHERE zone_id = %s) FROM notice_zone_state WHERE zone_id = %s", zid, zid), 20,
            "the scan saw the second finding")
        self.quiet(vemail, 2)


if __name__ == "__main__":
    webtest.main()
