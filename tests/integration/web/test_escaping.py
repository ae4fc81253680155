#!/usr/bin/env python3
"""Everything a user typed is escaped in HTML: names with <script> and quotes are registered
through the forms, then every page that shows them is checked."""

import webtest

EVIL = '<script>alert("x")</script>\' "zq" &amp;'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &quot;zq&quot; &amp;amp;"


class Escaping(webtest.WebTestCase):
    def check(self, body):
        self.assertNotIn("<script>", body)
        self.assertNotIn('"zq"', body)
        self.assertIn(ESCAPED, body)

    def test_vendor_strings_are_escaped_everywhere(self):
        self.db.create_admin("esc-admin@example.org", "admin password 1")
        v = self.client()
        v.signup(self.unique_email("vendor"), role="vendor")
        v.get("/vendor")
        r = v.post("/vendor/request", {
            "name": "escapeco", "organization": EVIL, "contact": EVIL, "device_description": EVIL,
            "device_count": "1000", "client_type": "sntp", "poll_description": EVIL})
        self.assertEqual(r.status, 303)
        vid = self.db.one("SELECT id FROM vendor_zones WHERE name = 'escapeco'")
        self.assertEqual(self.db.one("SELECT organization FROM vendor_zones WHERE id = %s", vid), EVIL)
        self.check(v.get("/vendor/%d" % vid).body)
        adm = self.client()
        adm.login("esc-admin@example.org", "admin password 1")
        self.check(adm.get("/admin").body)
        adm.post("/admin/vendor/%d/reject" % vid, {"reason": EVIL})
        self.check(v.get("/vendor/%d" % vid).body)
        self.check(adm.get("/admin").body)

    def test_refused_form_values_are_escaped(self):
        c = self.client()
        c.signup(self.unique_email())
        c.get("/servers")
        r = c.post("/servers/add", {"address": EVIL, "netspeed": "1500", "country": "de"})
        self.assertEqual(r.status, 400)
        self.check(r.body)
        v = self.client()
        v.signup(self.unique_email("vendor"), role="vendor")
        v.get("/vendor")
        r = v.post("/vendor/request", {"name": "ok-name", "organization": EVIL, "contact": "c",
                                       "device_description": "d", "device_count": EVIL,
                                       "client_type": "ntp"})
        self.assertEqual(r.status, 400)
        self.check(r.body)
        anon = self.client()
        anon.get("/signup")
        r = anon.post("/signup", {"email": EVIL, "password": "x", "role": "volunteer"})
        self.assertEqual(r.status, 400)
        self.check(r.body)

    def test_escaped_in_zone_and_search_pages(self):
        self.db.q("UPDATE zones SET description = %s WHERE name = 'de'", EVIL)
        c = self.client()
        self.check(c.get("/zone/de").body)
        self.check(c.get("/zone/europe").body)
        self.check(c.get("/zones?all=1").body)
        self.db.create_admin("esc-admin2@example.org", "admin password 2")
        adm = self.client()
        adm.login("esc-admin2@example.org", "admin password 2")
        self.check(adm.get("/admin/servers?q=" + __import__("urllib.parse").parse.quote(EVIL)).body)


if __name__ == "__main__":
    webtest.main()
