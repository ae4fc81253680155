#!/usr/bin/env python3
"""Trust in claims through the site (schema/0020_claims.sql): a volunteer's server at 3 Gbit/s
starts at the trial cap and the pages say so; an account at its server limit is refused with
what to do; anyone can report "this address is mine" and the server leaves DNS at once, its
owner sees why, an admin dismisses or disables; an address the admin disabled stays disabled
when its owner deletes it and adds it again; the admin's "trust" ends a trial."""

import webtest


class Claims(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        cls.chrony = webtest.Chronyd()
        cls.settings = {"allow_loopback": "true", "probe_port": cls.chrony.port}
        super().setUpClass()
        cls.db.create_admin("admin@example.org", "admin password 123")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.chrony.stop()

    def volunteer(self):
        c = self.client()
        email = self.unique_email("vol")
        c.signup(email)
        return c, self.db.one("SELECT id FROM accounts WHERE email = %s", email)

    def admin(self):
        a = self.client()
        r = a.login("admin@example.org", "admin password 123")
        self.assertEqual(r.status, 303, r.body)
        return a

    def add(self, c, address, netspeed="1500"):
        c.get("/servers")
        return c.add_server({"address": address, "netspeed": netspeed, "country": "de"})

    def in_dns(self, address):
        return self.db.one("SELECT count(*) FROM eligible_servers WHERE address = %s", address) == 1

    def test_trial_cap_and_trust(self):
        c, _ = self.volunteer()
        self.db.q("DELETE FROM servers WHERE address = '127.0.0.1'")
        r = self.add(c, "127.0.0.1", netspeed="3000000")
        self.assertEqual(r.status, 303, r.body)
        added = c.get(r.header("Location"))
        self.assertIn("New servers start at 1.5 Mbit/s until", added.body)
        self.assertIn("3 Gbit/s you chose applies", added.body)
        sid, netspeed, claimed = self.db.q(
            "SELECT id, netspeed, netspeed_claimed FROM servers WHERE address = '127.0.0.1' "
            "AND deleted_at IS NULL")[0]
        self.assertEqual((netspeed, claimed), (1500, 3000000))
        manage = c.get("/servers/%d" % sid)
        self.assertIn("the pool gives it at most 1.5 Mbit/s", manage.body)
        self.assertRegex(manage.body, r'<option value="3000000" selected')
        # Re-saving the form keeps the claim; the admin's "Trust now" applies it at once.
        r = c.post("/servers/%d/netspeed" % sid, {"netspeed": "3000000"})
        self.assertEqual(r.status, 303)
        self.assertEqual(self.db.q("SELECT netspeed, netspeed_claimed FROM servers WHERE id = %s",
                                   sid)[0], (1500, 3000000))
        a = self.admin()
        listing = a.get("/admin/servers?q=127.0.0.1")
        self.assertIn("trial until", listing.body)
        self.assertIn("asked for 3 Gbit/s", listing.body)
        r = a.post("/admin/servers/%d/trust" % sid, {})
        self.assertEqual(r.status, 303, r.body)
        self.assertEqual(self.db.q("SELECT netspeed, trial_until FROM servers WHERE id = %s",
                                   sid)[0], (3000000, None))
        self.assertEqual(self.db.one("SELECT actor FROM audit_log WHERE action = 'server.trust'"),
                         "admin@example.org")
        self.db.q("DELETE FROM servers WHERE id = %s", sid)

    def test_server_limit_per_account(self):
        c, owner = self.volunteer()
        self.db.q("UPDATE accounts SET max_servers = 1 WHERE id = %s", owner)
        self.db.q("INSERT INTO servers (address, country, owner_id) VALUES ('198.51.100.40', 'de', %s)",
                  owner)
        self.db.q("DELETE FROM servers WHERE address = '127.0.0.1'")
        before = self.db.snapshot()
        r = self.add(c, "127.0.0.1")
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("already has as many servers as it may have", r.body)
        self.assertIn("Delete a server first", r.body)
        self.assert_nothing_written(before)

    def test_report_holds_then_admin_decides(self):
        c, owner = self.volunteer()
        sid = self.db.one("INSERT INTO servers (address, country, owner_id, score) "
                          "VALUES ('198.51.100.50', 'de', %s, 15) RETURNING id", owner)
        self.assertTrue(self.in_dns("198.51.100.50"))
        anon = self.client(source="127.0.0.44")
        form = anon.get("/report?address=198.51.100.50")
        self.assertEqual(form.status, 200)
        self.assertIn('value="198.51.100.50"', form.body)
        # Bad input: a clear 400 that keeps what was typed, and nothing recorded.
        for fields, why in [({"address": "198.51.100.999", "contact": "noc@example.net"},
                             "is not an IPv4 or IPv6 address"),
                            ({"address": "198.51.100.50", "contact": "not-an-email"},
                             "Please give an e-mail address"),
                            ({"address": "198.51.100.50", "contact": "noc@example.net",
                              "message": "x" * 2001}, "longer than 2000 characters")]:
            r = anon.post("/report", fields)
            self.assertEqual(r.status, 400, r.body)
            self.assertIn(why, r.body)
        self.assertEqual(self.db.count("address_reports"), 0)
        self.assertTrue(self.in_dns("198.51.100.50"))

        r = anon.post("/report", {"address": "198.51.100.50", "contact": "noc@example.net",
                                  "message": "our router, never offered"})
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("no longer hands out 198.51.100.50", r.body)
        self.assertFalse(self.in_dns("198.51.100.50"), "held out of DNS at once")
        self.assertIn('id="held"', c.get("/servers/%d" % sid).body)

        a = self.admin()
        page = a.get("/admin/reports")
        self.assertIn("198.51.100.50", page.body)
        self.assertIn("our router, never offered", page.body)
        rid = self.db.one("SELECT id FROM address_reports WHERE address = '198.51.100.50'")
        r = a.post("/admin/reports/%d" % rid, {"decision": "dismissed"})
        self.assertEqual(r.status, 303, r.body)
        self.assertTrue(self.in_dns("198.51.100.50"), "dismissed: back in DNS")
        r = a.post("/admin/reports/%d" % rid, {"decision": "disabled"})
        self.assertEqual(r.status, 409, "a decided report cannot be decided again")
        self.assertNotIn('id="report-%d"' % rid, a.get("/admin/reports").body)

        # Reported again and disabled: the address stays disabled when the owner deletes the
        # server and adds it again.
        anon.post("/report", {"address": "198.51.100.50", "contact": "noc@example.net"})
        rid2 = self.db.one("SELECT max(id) FROM address_reports")
        a.post("/admin/reports/%d" % rid2, {"decision": "disabled"})
        self.assertIsNotNone(self.db.one("SELECT disabled_at FROM servers WHERE id = %s", sid))
        self.db.q("UPDATE servers SET deleted_at = now() WHERE id = %s", sid)
        self.db.q("INSERT INTO servers (address, country, owner_id, score) "
                  "VALUES ('198.51.100.50', 'de', %s, 15)", owner)
        self.assertFalse(self.in_dns("198.51.100.50"))
        self.assertIsNotNone(self.db.one(
            "SELECT disabled_at FROM servers WHERE address = '198.51.100.50' AND deleted_at IS NULL"))

        # An address outside the pool: recorded, nothing held; other people's forms need a CSRF
        # token like every form.
        r = anon.post("/report", {"address": "203.0.113.77", "contact": "x@example.net"})
        self.assertIn("203.0.113.77 is not one of the pool", r.body)
        r = anon.post("/report", {"address": "203.0.113.78", "contact": "x@example.net"},
                      csrf=False)
        self.assertEqual(r.status, 403)

    def test_reports_are_limited_per_network(self):
        anon = self.client(source="127.0.9.1")
        anon.get("/report")
        codes = []
        for i in range(7):
            r = anon.post("/report", {"address": "203.0.113.%d" % (100 + i),
                                      "contact": "x@example.net"})
            codes.append(r.status)
        self.assertEqual(codes, [200] * 5 + [429] * 2)
        self.assertIn("as many reports today as it may", r.body)
        other = self.client(source="127.0.10.1")
        other.get("/report")
        self.assertEqual(other.post("/report", {"address": "203.0.113.120",
                                                "contact": "x@example.net"}).status, 200)


if __name__ == "__main__":
    webtest.main()
