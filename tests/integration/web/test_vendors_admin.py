#!/usr/bin/env python3
"""Vendor zone requests with every validation, the admin queue (approve puts the zone into DNS
through the database and NOTIFYs timepool_dns; reject with a reason), admin lists, disabling and
country overrides, and nobody but admins on the admin pages."""

import select


import webtest

ADMIN_PW = "admin password 1"


def request_fields(name, **kw):
    f = {"name": name, "organization": "Acme Devices", "contact": "Ann Acme <ann@acme.test>",
         "device_description": "Smart thermostats", "device_count": "20000",
         "client_type": "ntp", "poll_description": "every 1024 s at a random second",
         "open_source": "yes"}
    f.update(kw)
    return f


class VendorsAdmin(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin_email = "root-admin@example.org"
        cls.db.create_admin(cls.admin_email, ADMIN_PW)

    def vendor(self):
        c = self.client()
        c.signup(self.unique_email("vendor"), role="vendor")
        c.get("/vendor")
        return c

    def admin(self):
        c = self.client()
        self.assertEqual(c.login(self.admin_email, ADMIN_PW).status, 303)
        return c

    def request_zone(self, c, name, **kw):
        c.get("/vendor")
        return c.post("/vendor/request", request_fields(name, **kw))

    def test_request_happy_path(self):
        c = self.vendor()
        r = self.request_zone(c, "acme-thermo", client_type="both")
        self.assertEqual(r.status, 303)
        row = self.db.q("SELECT status, device_count, client_type, open_source, zone_id "
                        "FROM vendor_zones WHERE name = 'acme-thermo'")
        self.assertEqual(row, [("new", 20000, "both", True, None)])
        page = c.get("/vendor")
        self.assertIn("acme-thermo", page.body)
        self.assertIn("waiting for an administrator", page.body)

    def test_request_refusals_write_nothing(self):
        owner = self.vendor()
        self.assertEqual(self.request_zone(owner, "taken-name").status, 303)
        c = self.vendor()
        cases = [
            (request_fields("time"), 400, "reserved"),
            (request_fields("pool"), 400, "reserved"),
            (request_fields("vendor"), 400, "reserved"),
            (request_fields("www"), 400, "too short"),
            (request_fields("abc"), 400, "too short"),
            (request_fields("a" * 41), 400, "too long"),
            (request_fields("Acme"), 400, "lower-case"),
            (request_fields("ac_me"), 400, "lower-case"),
            (request_fields("acme!"), 400, "lower-case"),
            (request_fields("ac me"), 400, "lower-case"),
            (request_fields("-acme"), 400, "start and end"),
            (request_fields("acme-"), 400, "start and end"),
            (request_fields("europe"), 400, "reserved"),
            (request_fields("north-america"), 400, "reserved"),
            (request_fields("taken-name"), 409, "taken"),
            (request_fields("fine-name", device_count="499"), 400, "500 to 100000000"),
            (request_fields("fine-name", device_count="100000001"), 400, "500 to 100000000"),
            (request_fields("fine-name", device_count="many"), 400, "500 to 100000000"),
            (request_fields("fine-name", client_type="ptp"), 400, "client type"),
            (request_fields("fine-name", organization=""), 400, "organization"),
            (request_fields("fine-name", contact="  "), 400, "contact"),
            (request_fields("fine-name", device_description=""), 400, "Describe"),
        ]
        for fields, status, words in cases:
            with self.subTest(name=fields["name"], fields=fields):
                before = self.db.snapshot()
                c.get("/vendor")
                r = c.post("/vendor/request", fields)
                self.assertEqual(r.status, status, r.body)
                self.assertIn(words, r.body)
                self.assert_nothing_written(before)
        # A pool zone's name that passes the word rules is refused by the database check too.
        self.db.q("INSERT INTO zones (name, kind, parent_id) SELECT 'xzone-test', 'continent', id "
                  "FROM zones WHERE name = '@'")
        before = self.db.snapshot()
        c.get("/vendor")
        r = c.post("/vendor/request", request_fields("xzone-test"))
        self.assertEqual(r.status, 400)
        self.assertIn("pool zone", r.body)
        self.assert_nothing_written(before)

    def test_request_needs_csrf_and_vendor_role(self):
        c = self.vendor()
        v = self.client()
        v.signup(self.unique_email("vol"))
        v.get("/servers")
        before = self.db.snapshot()
        self.assertEqual(c.post("/vendor/request", request_fields("csrf-less"), csrf=False).status, 403)
        self.assertEqual(c.post("/vendor/request", request_fields("csrf-bad"), csrf="2" * 64).status, 403)
        self.assertEqual(v.post("/vendor/request", request_fields("volunteer-try")).status, 403)
        self.assert_nothing_written(before)

    def test_non_admins_cannot_open_admin_pages(self):
        vol = self.client()
        vol.signup(self.unique_email("vol"))
        ven = self.vendor()
        self.request_zone(ven, "queued-zone")
        vid = self.db.one("SELECT id FROM vendor_zones WHERE name = 'queued-zone'")
        anon = self.client()
        for path in ("/admin", "/admin/servers", "/admin/accounts", "/admin/servers?q=1"):
            with self.subTest(path=path):
                self.assertEqual(vol.get(path).status, 403)
                self.assertEqual(ven.get(path).status, 403)
                self.assertEqual(anon.get(path).status, 303)
        before = self.db.snapshot()
        ven.get("/vendor")
        self.assertEqual(ven.post("/admin/vendor/%d/approve" % vid, {}).status, 403)
        vol.get("/servers")
        self.assertEqual(vol.post("/admin/vendor/%d/reject" % vid, {"reason": "no"}).status, 403)
        acc = self.db.one("SELECT id FROM accounts WHERE email = %s", self.admin_email)
        self.assertEqual(vol.post("/admin/accounts/%d/disable" % acc, {"action": "disable"}).status, 403)
        self.assert_nothing_written(before)
        self.assertEqual(self.db.one("SELECT status FROM vendor_zones WHERE id = %s", vid), "new")
        self.assertIsNone(self.db.one("SELECT disabled_at FROM accounts WHERE id = %s", acc))

    def test_approve_puts_zone_live_and_shows_names(self):
        ven = self.vendor()
        self.assertEqual(self.request_zone(ven, "gadgetco", client_type="both").status, 303)
        vid = self.db.one("SELECT id FROM vendor_zones WHERE name = 'gadgetco'")
        listener = self.db.connect()
        listener.autocommit = True
        listener.cursor().execute("LISTEN timepool_dns")
        adm = self.admin()
        queue = adm.get("/admin")
        self.assertIn('id="request-gadgetco"', queue.body)
        r = adm.post("/admin/vendor/%d/approve" % vid, {})
        self.assertEqual(r.status, 303)
        zone = self.db.q("SELECT z.kind, p.name, z.id FROM zones z JOIN zones p ON p.id = z.parent_id "
                         "WHERE z.name = 'gadgetco'")
        self.assertEqual(zone[0][:2], ("vendor", "@"))
        self.assertEqual(self.db.q("SELECT status, zone_id, decided_by IS NOT NULL FROM vendor_zones "
                                   "WHERE id = %s", vid), [("approved", zone[0][2], True)])
        # The DNS server hears about it through the database.
        self.assertNotEqual(select.select([listener], [], [], 5), ([], [], []))
        listener.poll()
        self.assertTrue(any(n.channel == "timepool_dns" for n in listener.notifies))
        listener.close()
        page = ven.get("/vendor/%d" % vid)
        self.assertEqual(page.status, 200)
        for n in ("0.gadgetco.pool.test", "3.gadgetco.pool.test", "gadgetco.pool.test"):
            self.assertIn("<code>%s</code>" % n, page.body)
        for words in ("chrony", "ntpd / ntpsec", "systemd-timesyncd", "generic SNTP client",
                      "pool 0.gadgetco.pool.test iburst", "NTP=0.gadgetco.pool.test"):
            self.assertIn(words, page.body)
        self.assertIn("No queries counted", page.body)
        # The DNS servers' counts show up as the zone's load, with the busiest minute named.
        zid = zone[0][2]
        self.db.q("INSERT INTO dns_query_counts_hourly (hour, zone_id, qtype, rcode, count) "
                  "SELECT date_trunc('hour', now()) - make_interval(hours => g), %s, 1, 0, 600 "
                  "FROM generate_series(1, 48) g", zid)
        self.db.q("INSERT INTO dns_query_counts (minute, zone_id, qtype, rcode, count) "
                  "SELECT date_trunc('minute', now()) - make_interval(mins => g), %s, 1, 0, "
                  "CASE WHEN g = 30 THEN 5000 ELSE 10 END FROM generate_series(1, 120) g", zid)
        page = ven.get("/vendor/%d" % vid)
        self.assertIn("28800 queries in the last 7 days", page.body)
        self.assertIn("with 5000 queries", page.body)
        # One spike is not a recurring burst (test_load.py covers those); per-minute and
        # per-hour charts.
        self.assertNotIn('id="bursts"', page.body)
        self.assertEqual(page.body.count("<svg"), 2)
        # Approving twice does nothing more.
        before = self.db.snapshot()
        adm.get("/admin")
        self.assertEqual(adm.post("/admin/vendor/%d/approve" % vid, {}).status, 409)
        self.assert_nothing_written(before)
        # Another vendor cannot read it.
        self.assertEqual(self.vendor().get("/vendor/%d" % vid).status, 403)

    def test_reject_needs_a_reason(self):
        ven = self.vendor()
        self.request_zone(ven, "rejectme")
        vid = self.db.one("SELECT id FROM vendor_zones WHERE name = 'rejectme'")
        adm = self.admin()
        adm.get("/admin")
        self.assertEqual(adm.post("/admin/vendor/%d/reject" % vid, {"reason": " "}).status, 400)
        self.assertEqual(self.db.one("SELECT status FROM vendor_zones WHERE id = %s", vid), "new")
        adm.get("/admin")
        self.assertEqual(adm.post("/admin/vendor/%d/reject" % vid, {"reason": "Too vague"}).status, 303)
        self.assertEqual(self.db.q("SELECT status, decision_reason FROM vendor_zones WHERE id = %s", vid),
                         [("rejected", "Too vague")])
        self.assertIn("Too vague", ven.get("/vendor/%d" % vid).body)
        self.assertIsNone(self.db.one("SELECT id FROM zones WHERE name = 'rejectme'"))
        # A rejected name may be asked for again.
        self.assertEqual(self.request_zone(ven, "rejectme").status, 303)

    def test_admin_servers_disable_and_country(self):
        sid = self.db.one("INSERT INTO servers (address, netspeed, country, score) "
                          "VALUES ('203.0.114.9', 1500, 'de', 15) RETURNING id")
        adm = self.admin()
        page = adm.get("/admin/servers?q=203.0.114")
        self.assertIn("203.0.114.9", page.body)
        self.assertNotIn("203.0.114.9", adm.get("/admin/servers?q=198.18.77").body)
        self.assertEqual(adm.post("/admin/servers/%d/country" % sid, {"country": "FR"}).status, 303)
        zones = sorted(z for (z,) in self.db.q(
            "SELECT z.name FROM server_zones sz JOIN zones z ON z.id = sz.zone_id "
            "WHERE sz.server_id = %s", sid))
        self.assertEqual(zones, ["@", "europe", "fr"])
        adm.get("/admin/servers")
        self.assertEqual(adm.post("/admin/servers/%d/country" % sid, {"country": "zz"}).status, 400)
        self.assertEqual(self.db.one("SELECT country FROM servers WHERE id = %s", sid), "fr")
        adm.get("/admin/servers")
        self.assertEqual(adm.post("/admin/servers/%d/country" % sid, {"country": "us"}).status, 303)
        self.assertIn("north-america", [z for (z,) in self.db.q(
            "SELECT z.name FROM server_zones sz JOIN zones z ON z.id = sz.zone_id "
            "WHERE sz.server_id = %s", sid)])
        self.assertEqual(self.db.one("SELECT count(*) FROM eligible_servers WHERE id = %s", sid), 1)
        adm.get("/admin/servers")
        self.assertEqual(adm.post("/admin/servers/%d/disable" % sid, {"action": "disable"}).status, 303)
        self.assertEqual(self.db.one("SELECT count(*) FROM eligible_servers WHERE id = %s", sid), 0)
        adm.get("/admin/servers")
        self.assertEqual(adm.post("/admin/servers/%d/disable" % sid, {"action": "enable"}).status, 303)
        self.assertEqual(self.db.one("SELECT count(*) FROM eligible_servers WHERE id = %s", sid), 1)

    def test_admin_disables_account(self):
        email = self.unique_email("victim")
        victim = self.client()
        victim.signup(email, password="victim password")
        acc = self.db.one("SELECT id FROM accounts WHERE email = %s", email)
        adm = self.admin()
        self.assertIn(email, adm.get("/admin/accounts?q=victim").body)
        r = adm.post("/admin/accounts/%d/disable" % acc, {"action": "disable"})
        self.assertEqual(r.status, 303)
        self.assertIsNotNone(self.db.one("SELECT disabled_at FROM accounts WHERE id = %s", acc))
        self.assertEqual(self.db.one("SELECT count(*) FROM sessions WHERE account_id = %s", acc), 0)
        self.assertEqual(victim.get("/servers").status, 303)
        self.assertEqual(self.client().login(email, "victim password").status, 401)
        # An admin cannot lock themselves out.
        me = self.db.one("SELECT id FROM accounts WHERE email = %s", self.admin_email)
        adm.get("/admin/accounts")
        self.assertEqual(adm.post("/admin/accounts/%d/disable" % me, {"action": "disable"}).status, 400)


if __name__ == "__main__":
    webtest.main()
