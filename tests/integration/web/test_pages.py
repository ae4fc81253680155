#!/usr/bin/env python3
"""Pages that explain: why a server is out of DNS (offset, no reply, Kiss-o'-Death, an admin's
action with the reason, too little history), confirmations after every save with
POST-redirect-GET, an account that is both volunteer and vendor, zone pages that say where the
answers come from when a zone falls back (the DNS server's rule), the zone list without empty
zones, the servers-over-time chart and the API documentation page."""

import re

import webtest


class Pages(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        q = cls.db.q
        q("INSERT INTO monitors (name, key_hash, status) VALUES ('mon-a', 'ka', 'active')")
        cls.db.create_admin("admin@example.org", "admin password 1")

    def owner(self, *addresses, role="volunteer"):
        """A volunteer owning servers at `addresses` (inserted directly: no probe)."""
        c = self.client()
        email = self.unique_email("owner")
        c.signup(email, role=role)
        account = self.db.one("SELECT id FROM accounts WHERE email = %s", email)
        for a in addresses:
            self.db.q("DELETE FROM servers WHERE address = %s", a)
            self.db.q("INSERT INTO servers (address, owner_id, netspeed, country, score) "
                      "VALUES (%s, %s, 1500, 'de', -20)", a, account)
        return c

    def probes(self, address, rows):
        """rows: (offset_s or None, error or None, step), newest first, one a minute."""
        sid = self.db.one("SELECT id FROM servers WHERE address = %s", address)
        for i, (offset, error, step) in enumerate(rows):
            self.db.q("INSERT INTO probe_log (ts, server_id, monitor_id, step, score, offset_s, "
                      "rtt_s, stratum, leap, error) SELECT now() - make_interval(mins => %s), %s, "
                      "id, %s, -20, %s, 0.02, 2, 0, %s FROM monitors WHERE name = 'mon-a'",
                      i + 1, sid, step, offset, error)
        return sid

    def why(self, c, address):
        body = c.get("/scores/" + address).body
        m = re.search(r'<h2 id="why-headline">(.*?)</h2>', body)
        self.assertIsNotNone(m, body[:2000])
        return m.group(1), body

    def test_why_offset_no_reply_kod(self):
        c = self.owner("198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14")
        self.probes("198.51.100.11", [(5.0001, None, -4)] * 3)
        self.probes("198.51.100.12", [(None, "timeout", -5)] * 3)
        self.probes("198.51.100.13", [(None, "kod DENY", -10)])
        self.probes("198.51.100.14", [(None, "kod RATE", -3.5), (0.001, None, 1)])
        head, body = self.why(c, "198.51.100.11")
        self.assertEqual(head, "Not in DNS: its time is off by +5000.100 ms")
        self.assertIn("Offset too large in 3 of the last 3 probes: the newest was +5000.100 ms", body)
        self.assertIn('<td id="status">Not in DNS: its time is off by +5000.100 ms</td>', body)
        self.assertIn("chronyc sources", body)
        # The offset chart marks the 5 s points off scale with their value.
        self.assertIn('class="offscale ', body)
        self.assertIn(">+5000 ms</text>", body)
        self.assertEqual(self.why(c, "198.51.100.12")[0], "Not in DNS: no reply from the server")
        self.assertEqual(self.why(c, "198.51.100.13")[0],
                         "Not in DNS: the server refuses our monitors (Kiss-o&#39;-Death DENY)")
        self.assertEqual(self.why(c, "198.51.100.14")[0],
                         "Not in DNS: the server rate-limits our monitors (Kiss-o&#39;-Death RATE)")
        # The chart titles name the range they show (the probes span minutes, not 7 days).
        self.assertRegex(body, r"Score \(last \d+ minutes\)")
        self.assertNotIn("last 7 days", body)

    def test_why_new_server_and_admin_reason(self):
        c = self.owner("198.51.100.21", "198.51.100.22")
        head, body = self.why(c, "198.51.100.21")
        self.assertEqual(head, "Not in DNS yet: not enough history")
        self.assertIn("about 14 good probes", body)
        # An admin disables the server with a reason (as timepoolctl records it).
        self.db.q("UPDATE servers SET disabled_at = now() WHERE address = '198.51.100.22'")
        self.db.q("INSERT INTO audit_log (actor, action, target, detail) VALUES "
                  "('timepoolctl:root', 'server.disable', '198.51.100.22', 'serves the year 2000')")
        head, body = self.why(c, "198.51.100.22")
        self.assertEqual(head, "Not in DNS: disabled by an administrator")
        self.assertIn("Their reason: serves the year 2000", body)
        # The reason concerns the owner: other visitors see the state, not the reason.
        _, public = self.why(self.client(), "198.51.100.22")
        self.assertNotIn("year 2000", public)
        # The owner's Manage page explains it too.
        sid = self.db.one("SELECT id FROM servers WHERE address = '198.51.100.22'")
        self.assertIn("Their reason: serves the year 2000", c.get("/servers/%d" % sid).body)

    def test_saves_confirm_and_redirect(self):
        c = self.owner("198.51.100.31")
        sid = self.db.one("SELECT id FROM servers WHERE address = '198.51.100.31'")
        c.get("/servers/%d" % sid)
        posts = [
            ("/servers/%d/netspeed" % sid, {"netspeed": "3000"},
             "Saved: the netspeed of 198.51.100.31 is now 3 Mbit/s."),
            ("/servers/%d/delete" % sid, {"days": "7"}, "Deletion scheduled: 198.51.100.31 left DNS"),
            ("/servers/%d/undelete" % sid, {}, "Deletion cancelled: 198.51.100.31 stays"),
            ("/account/password", {"current": "correct horse battery", "password": "another long one"},
             "Your password was changed"),
            ("/account/roles", {"volunteer": "yes", "vendor": "yes"},
             "Saved: your account is now volunteer and vendor."),
        ]
        for path, fields, confirmation in posts:
            with self.subTest(path=path):
                r = c.post(path, fields)
                self.assertEqual(r.status, 303, r.body)  # POST-redirect-GET
                page = c.get(r.header("Location"))
                self.assertEqual(page.status, 200)
                m = re.search(r'<p class="flash ok" id="flash" role="status">(.*?)</p>', page.body)
                self.assertIsNotNone(m, page.body[:1500])
                self.assertIn(confirmation, m.group(1))
                # Reloading the page neither repeats the message nor posts again.
                self.assertNotIn('id="flash"', c.get(r.header("Location")).body)
        self.assertEqual(self.db.one("SELECT netspeed FROM servers WHERE id = %s", sid), 3000)

    def test_admin_saves_confirm(self):
        adm = self.client()
        adm.login("admin@example.org", "admin password 1")
        self.db.q("INSERT INTO servers (address, netspeed, country, score) VALUES "
                  "('198.51.100.41', 1500, 'de', 15) ON CONFLICT DO NOTHING")
        sid = self.db.one("SELECT id FROM servers WHERE address = '198.51.100.41'")
        adm.get("/admin/servers")
        for path, fields, confirmation in (
                ("/admin/servers/%d/disable" % sid, {"action": "disable"}, "Disabled: the server left DNS"),
                ("/admin/servers/%d/disable" % sid, {"action": "enable"}, "Enabled: the server is probed"),
                ("/admin/servers/%d/country" % sid, {"country": "FR"}, "country is now fr")):
            r = adm.post(path, fields)
            self.assertEqual(r.status, 303, r.body)
            self.assertIn(confirmation, adm.get(r.header("Location")).body)

    def test_admin_disables_with_reason_owner_sees_it(self):
        """The admin's "Disable" form takes a reason, kept as timepoolctl keeps it (audit log:
        server.disable, the address, the reason); the owner's pages show it, nobody else's."""
        c = self.owner("198.51.100.91")
        sid = self.db.one("SELECT id FROM servers WHERE address = '198.51.100.91'")
        adm = self.client()
        adm.login("admin@example.org", "admin password 1")
        listing = adm.get("/admin/servers?q=198.51.100.91").body
        form = re.search(r'<form method="post" action="/admin/servers/%d/disable".*?</form>' % sid,
                         listing, re.S)
        self.assertIsNotNone(form, listing[:3000])
        self.assertIn('name="reason"', form.group(0))
        r = adm.post("/admin/servers/%d/disable" % sid,
                     {"action": "disable", "reason": "answers with the time of 1970 ünd more"})
        self.assertEqual(r.status, 303, r.body)
        self.assertEqual(self.db.one(
            "SELECT actor || ' ' || action || ' ' || target || ' ' || detail FROM audit_log "
            "WHERE target = '198.51.100.91' ORDER BY id DESC LIMIT 1"),
            "admin@example.org server.disable 198.51.100.91 answers with the time of 1970 ünd more")
        head, body = self.why(c, "198.51.100.91")
        self.assertEqual(head, "Not in DNS: disabled by an administrator")
        self.assertIn("Their reason: answers with the time of 1970 ünd more", body)
        self.assertIn("Their reason: answers with the time of 1970 ünd more",
                      c.get("/servers/%d" % sid).body)
        self.assertNotIn("1970", self.why(self.client(), "198.51.100.91")[1])
        # A disabled server's form enables it; too long a reason changes nothing.
        listing = adm.get("/admin/servers?q=198.51.100.91").body
        form = re.search(r'<form method="post" action="/admin/servers/%d/disable".*?</form>' % sid,
                         listing, re.S).group(0)
        self.assertIn('value="enable"', form)
        self.assertEqual(adm.post("/admin/servers/%d/disable" % sid, {"action": "enable"}).status,
                         303)
        r = adm.post("/admin/servers/%d/disable" % sid, {"action": "disable", "reason": "x" * 2001})
        self.assertEqual(r.status, 400)
        self.assertIsNone(self.db.one("SELECT disabled_at FROM servers WHERE id = %s", sid))

    def test_volunteer_and_vendor(self):
        c = self.owner("198.51.100.51")
        self.assertEqual(c.get("/vendor").status, 403)
        c.get("/account")
        r = c.post("/account/roles", {"volunteer": "yes", "vendor": "yes"})
        self.assertEqual(r.status, 303)
        account = c.get("/account")
        self.assertIn('<span id="roles">volunteer and vendor</span>', account.body)
        self.assertIn('href="/servers"', account.body)
        self.assertIn('href="/vendor"', account.body)
        self.assertEqual(c.get("/vendor").status, 200)
        self.assertEqual(c.get("/servers").status, 200)
        # Dropping the volunteer role while owning a server is refused with the reason.
        r = c.post("/account/roles", {"vendor": "yes"})
        self.assertEqual(r.status, 409)
        self.assertIn("You have servers in the pool", r.body)
        self.assertEqual(c.get("/servers").status, 200)
        # A vendor adds the volunteer role; the login still lands on the main role's page.
        v = self.client()
        email = self.unique_email("ven")
        v.signup(email, role="vendor")
        v.get("/account")
        v.post("/account/roles", {"volunteer": "yes", "vendor": "yes"})
        self.assertEqual(self.db.q("SELECT role, extra_roles FROM accounts WHERE email = %s", email),
                         [("vendor", ["volunteer"])])
        self.assertEqual(v.get("/servers").status, 200)
        r = self.client().login(email, "correct horse battery")
        self.assertEqual(r.header("Location"), "/vendor")
        # Neither role: refused, nothing changes.
        self.assertEqual(v.post("/account/roles", {}).status, 400)

    def test_zone_fallback_and_history(self):
        # nl: one server in DNS, fewer than geo_min_servers (3); europe has more.
        for addr, cc in (("198.51.100.61", "nl"), ("198.51.100.62", "de"), ("198.51.100.63", "de"),
                         ("198.51.100.64", "fr")):
            self.db.q("INSERT INTO servers (address, netspeed, country, score) VALUES "
                      "(%s, 1500, %s, 15) ON CONFLICT DO NOTHING", addr, cc)
        c = self.client()
        nl = c.get("/zone/nl").body
        self.assertIn("nl.pool.test has 1 server, fewer than geo_min_servers (3): clients in nl "
                      "asking pool.test or a vendor zone get answers from europe.", nl)
        self.assertIn("nl.pool.test itself still answers with its own 1 server.", nl)
        # An empty country's own name answers from its continent.
        be = c.get("/zone/be").body
        self.assertIn("be.pool.test has no servers: its answers come from europe.", be)
        self.assertIn("No history yet", be)
        # The upkeep records the servers in DNS per hour; the zone page draws them.
        self.assertGreater(self.db.one("SELECT zone_servers_record()"), 0)
        de = c.get("/zone/de").body
        self.assertIn('<figure id="zone-history">', de)
        self.assertRegex(de, r"Servers in DNS per hour \(last \d+ (hour|minute)s?\)")
        self.assertNotIn('id="fallback"', c.get("/zone/@").body)

    def test_api_documentation_page(self):
        c = self.client()
        home = c.get("/")
        self.assertIn('<a href="/api" id="api-link">JSON API</a>', home.body)
        api = c.get("/api")
        self.assertEqual(api.status, 200)
        self.assertEqual(api.header("Content-Type"), "text/html; charset=utf-8")
        self.assertIn('<h1 id="timepool-web-json-api">timepool-web JSON API</h1>', api.body)
        self.assertIn('<h2 id="get-api-zones"><code>GET /api/zones</code></h2>', api.body)
        self.assertIn("<th>status</th>", api.body)


if __name__ == "__main__":
    webtest.main()
