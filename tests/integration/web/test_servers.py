#!/usr/bin/env python3
"""Volunteers add servers (address checks, duplicate, the real probe against a real chronyd or
a closed port, netspeed, country), change netspeed, schedule deletion and undo it; nobody
touches another's server."""

import re

import webtest


def add_fields(address, netspeed="1500", country="de"):
    return {"address": address, "netspeed": netspeed, "country": country}


class Servers(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        cls.chrony = webtest.Chronyd()
        cls.settings = {"allow_loopback": "true", "probe_port": cls.chrony.port}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.chrony.stop()

    def volunteer(self):
        c = self.client()
        c.signup(self.unique_email("vol"))
        c.get("/servers")
        return c

    def add(self, c, address, **kw):
        c.get("/servers")
        return c.add_server(add_fields(address, **kw))

    def server_id(self, address):
        return self.db.one("SELECT id FROM servers WHERE address = %s::inet AND deleted_at IS NULL",
                           address)

    def test_add_server_on_loopback_probes_and_joins_zones(self):
        c = self.volunteer()
        # The chronyd answers on 127.0.0.1 only; other 127/8 addresses do not answer.
        self.db.q("DELETE FROM servers WHERE address = '127.0.0.1'")
        r = self.add(c, " 127.0.0.1 ", country="uk")  # alias of gb
        # POST-redirect-GET: the server's page confirms it once.
        self.assertEqual(r.status, 303, r.body)
        sid = self.server_id("127.0.0.1")
        self.assertIsNotNone(sid)
        self.assertEqual(r.header("Location"), "/servers/%d" % sid)
        done = c.get(r.header("Location"))
        self.assertRegex(done.body, r'id="flash"[^>]*>Server added: 127\.0\.0\.1 joined the pool in gb\. '
                                    r'The check saw stratum 2, offset -?[0-9.]+ ms')
        self.assertNotIn('id="flash"', c.get(r.header("Location")).body, "shown once")
        row = self.db.q("SELECT netspeed, country, owner_id IS NOT NULL FROM servers WHERE id = %s", sid)
        self.assertEqual(row, [(1500, "gb", True)])
        zones = sorted(z for (z,) in self.db.q(
            "SELECT z.name FROM server_zones sz JOIN zones z ON z.id = sz.zone_id "
            "WHERE sz.server_id = %s", sid))
        self.assertEqual(zones, ["@", "europe", "gb"])
        page = c.get("/servers")
        self.assertIn("127.0.0.1", page.body)
        score = c.get("/scores/127.0.0.1")
        self.assertEqual(score.status, 200)
        self.assertIn("<svg", score.body)
        # A duplicate is refused before any probe, and nothing is written.
        other = self.volunteer()
        before = self.db.snapshot()
        r = self.add(other, "127.0.0.1")
        self.assertEqual(r.status, 409)
        self.assertIn("already in the pool", r.body)
        self.assert_nothing_written(before)

    def test_refused_addresses_write_nothing(self):
        c = self.volunteer()
        cases = [
            ("10.1.2.3", 400, "private"),
            ("192.168.0.10", 400, "private"),
            ("172.16.5.4", 400, "private"),
            ("100.64.0.1", 400, "carrier-grade NAT"),
            ("169.254.1.1", 400, "link-local"),
            ("224.0.0.1", 400, "multicast"),
            ("ff02::101", 400, "multicast"),
            ("fd00::1", 400, "unique local"),
            ("192.0.2.1", 400, "documentation"),
            ("2001:db8::1", 400, "documentation"),
            ("0.0.0.0", 400, "unspecified"),
            ("255.255.255.255", 400, "broadcast"),
            ("240.0.0.1", 400, "reserved"),
            ("::ffff:8.8.8.8", 400, "IPv4-mapped"),
            ("1.2.3", 400, "not an IP address"),
            ("999.1.1.1", 400, "not an IP address"),
            ("fe80::1%eth0", 400, "not an IP address"),
            ("example.org", 400, "not an IP address"),
            ("", 400, "not an IP address"),
        ]
        for address, status, words in cases:
            with self.subTest(address=address):
                before = self.db.snapshot()
                r = self.add(c, address)
                self.assertEqual(r.status, status, r.body)
                self.assertIn(words, r.body)
                self.assert_nothing_written(before)

    def test_no_answer_is_refused_with_a_clear_message(self):
        c = self.volunteer()
        before = self.db.snapshot()
        # Nothing listens on 127.0.0.2 at the probe port.
        r = self.add(c, "127.0.0.2")
        self.assertEqual(r.status, 422, r.body)
        self.assertIn("did not answer", r.body)
        self.assertIn('id="probe-error"', r.body)
        self.assert_nothing_written(before)

    def test_bad_netspeed_and_country_are_refused(self):
        c = self.volunteer()
        for fields in (add_fields("127.0.0.3", netspeed="1234"),
                       add_fields("127.0.0.3", netspeed="-1"),
                       add_fields("127.0.0.3", netspeed="lots"),
                       add_fields("127.0.0.3", country="xx"),
                       add_fields("127.0.0.3", country="europe"),
                       add_fields("127.0.0.3", country="")):
            with self.subTest(fields=fields):
                before = self.db.snapshot()
                c.get("/servers")
                r = c.post("/servers/add", fields)
                self.assertEqual(r.status, 400, r.body)
                self.assert_nothing_written(before)

    def test_add_without_or_with_wrong_csrf(self):
        c = self.volunteer()
        before = self.db.snapshot()
        self.assertEqual(c.post("/servers/add", add_fields("127.0.0.4"), csrf=False).status, 403)
        self.assertEqual(c.post("/servers/add", add_fields("127.0.0.4"), csrf="1" * 64).status, 403)
        self.assert_nothing_written(before)

    def test_vendor_and_anonymous_cannot_add(self):
        v = self.client()
        v.signup(self.unique_email("ven"), role="vendor")
        before = self.db.snapshot()
        v.get("/vendor")
        self.assertEqual(v.post("/servers/add", add_fields("127.0.0.5")).status, 403)
        anon = self.client()
        anon.get("/login")
        self.assertEqual(anon.post("/servers/add", add_fields("127.0.0.5")).status, 303)
        self.assert_nothing_written(before)

    def insert_server(self, owner_email, address):
        owner = self.db.one("SELECT id FROM accounts WHERE email = %s", owner_email)
        return self.db.one("INSERT INTO servers (address, owner_id, netspeed, country, score) "
                           "VALUES (%s, %s, 1500, 'de', 15) RETURNING id", address, owner)

    def test_netspeed_deletion_and_undo(self):
        email = self.unique_email("vol")
        c = self.client()
        c.signup(email)
        sid = self.insert_server(email, "198.51.200.7")
        self.assertEqual(self.db.one("SELECT count(*) FROM eligible_servers WHERE id = %s", sid), 1)
        page = c.get("/servers/%d" % sid)
        self.assertEqual(page.status, 200)
        self.assertEqual(c.post("/servers/%d/netspeed" % sid, {"netspeed": "25000"}).status, 303)
        self.assertEqual(self.db.one("SELECT netspeed FROM servers WHERE id = %s", sid), 25000)
        before = self.db.q("SELECT netspeed, deletion_on FROM servers WHERE id = %s", sid)
        for fields, path in (({"netspeed": "7"}, "netspeed"), ({"days": "2"}, "delete"),
                             ({"days": "23"}, "delete"), ({"days": "soon"}, "delete")):
            c.get("/servers/%d" % sid)
            self.assertEqual(c.post("/servers/%d/%s" % (sid, path), fields).status, 400)
        self.assertEqual(self.db.q("SELECT netspeed, deletion_on FROM servers WHERE id = %s", sid), before)
        c.get("/servers/%d" % sid)
        self.assertEqual(c.post("/servers/%d/delete" % sid, {"days": "3"}).status, 303)
        self.assertEqual(self.db.one("SELECT deletion_on - current_date FROM servers WHERE id = %s", sid), 3)
        # It leaves DNS at once.
        self.assertEqual(self.db.one("SELECT count(*) FROM eligible_servers WHERE id = %s", sid), 0)
        self.assertIn('id="deletion"', c.get("/servers/%d" % sid).body)
        self.assertEqual(c.post("/servers/%d/undelete" % sid, {}).status, 303)
        self.assertIsNone(self.db.one("SELECT deletion_on FROM servers WHERE id = %s", sid))
        self.assertEqual(self.db.one("SELECT count(*) FROM eligible_servers WHERE id = %s", sid), 1)
        c.get("/servers/%d" % sid)
        self.assertEqual(c.post("/servers/%d/delete" % sid, {"days": "22"}).status, 303)
        self.assertEqual(self.db.one("SELECT deletion_on - current_date FROM servers WHERE id = %s", sid), 22)

    def test_volunteer_cannot_touch_anothers_server(self):
        owner_email = self.unique_email("owner")
        self.client().signup(owner_email)
        sid = self.insert_server(owner_email, "198.51.200.8")
        other = self.volunteer()
        state = lambda: self.db.q("SELECT netspeed, deletion_on, country FROM servers WHERE id = %s", sid)
        before = state()
        self.assertEqual(other.get("/servers/%d" % sid).status, 403)
        other.get("/servers")
        self.assertEqual(other.post("/servers/%d/netspeed" % sid, {"netspeed": "512"}).status, 403)
        self.assertEqual(other.post("/servers/%d/delete" % sid, {"days": "5"}).status, 403)
        self.assertEqual(state(), before)
        # Undo changes only a server scheduled for deletion: schedule it, then try.
        self.db.q("UPDATE servers SET deletion_on = current_date + 7 WHERE id = %s", sid)
        before = state()
        self.assertEqual(other.post("/servers/%d/undelete" % sid, {}).status, 403)
        self.assertEqual(state(), before)
        self.assertNotIn("198.51.200.8", other.get("/servers").body)
        self.assertEqual(other.get("/servers/999999").status, 404)


class LoopbackSwitchOff(webtest.WebTestCase):
    def test_loopback_refused_without_the_switch(self):
        c = self.client()
        c.signup(self.unique_email())
        for address in ("127.0.0.1", "::1"):
            before = self.db.snapshot()
            c.get("/servers")
            r = c.post("/servers/add", add_fields(address))
            self.assertEqual(r.status, 400, r.body)
            self.assertIn("loopback", r.body)
            self.assert_nothing_written(before)


if __name__ == "__main__":
    webtest.main()
