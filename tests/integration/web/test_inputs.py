#!/usr/bin/env python3
"""Inputs (issue 14 item 6): a form field or query parameter that is not valid UTF-8 or holds a
NUL gets a 400 page naming the field and what was wrong, and nothing is written (before: 503
from the database's encoding check, or text cut at the NUL); an out-of-range `since` is a 400
(before: 503, the database's timestamp overflow); the CSRF token counts only in the POST body,
never in the query string or a header; a POST whose Origin header names another site than the
configured one (mail.site_url) is refused, one without Origin falls back to the token; a vendor
request in non-ASCII text within the site's field limits is accepted (before: cpp-httplib's bare
413 for urlencoded bodies over 8 KB), and a body over the site's own limit gets a page saying
so."""

import webtest


class Inputs(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db.q("INSERT INTO servers (address, netspeed, country, score) "
                 "VALUES ('198.51.100.7', 1500, 'de', 15)")

    def test_invalid_utf8_in_a_form_is_a_400_naming_the_field(self):
        c = self.client()
        c.signup(self.unique_email("vendor"), role="vendor")
        c.get("/vendor")
        before = self.db.snapshot()
        fields = {"name": "acme-iot", "organization": b"ACME \xff\xfe GmbH",
                  "contact": "ops@acme.example", "device_description": "clocks",
                  "device_count": "1000", "client_type": "ntp", "poll_description": ""}
        r = c.post("/vendor/request", fields)
        self.assertEqual(r.status, 400, r.body[:500])
        self.assertIn("organization", r.body)
        self.assertIn("not valid UTF-8", r.body)
        self.assert_nothing_written(before)
        # Overlong encodings and UTF-16 surrogates are not UTF-8 either.
        for bad in (b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"abc\xe2\x82"):
            with self.subTest(bad=bad):
                r = c.post("/vendor/request", dict(fields, organization=bad))
                self.assertEqual(r.status, 400)
        self.assert_nothing_written(before)

    def test_nul_in_a_form_is_a_400_naming_the_field(self):
        c = self.client()
        c.signup(self.unique_email("vendor"), role="vendor")
        c.get("/vendor")
        before = self.db.snapshot()
        r = c.post("/vendor/request", {
            "name": "nul-zone", "organization": "ACME", "contact": "ops@acme.example",
            "device_description": "clocks\x00 and more", "device_count": "1000",
            "client_type": "ntp", "poll_description": ""})
        self.assertEqual(r.status, 400, r.body[:500])
        self.assertIn("device_description", r.body)
        self.assertIn("NUL", r.body)
        self.assert_nothing_written(before)

    def test_bad_query_parameters_are_a_400(self):
        c = self.client()
        r = c.get("/admin/servers?q=%FF")
        self.assertEqual(r.status, 400)
        self.assertIn("not valid UTF-8", r.body)
        r = c.get("/api/server/198.51.100.7/log?monitor=a%00b")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["status"], 400)
        self.assertIn("NUL", r.json()["error"])
        # Valid non-ASCII text passes.
        self.assertEqual(c.get("/zones?q=%C3%BC").status, 200)

    def test_since_out_of_range_is_a_400(self):
        c = self.client()
        for since in ("99999999999999999999", "1" + "0" * 30, "253402300800"):
            with self.subTest(since=since):
                r = c.get("/api/server/198.51.100.7/log?since=" + since)
                self.assertEqual(r.status, 400, r.body)
                self.assertIn("since", r.json()["error"])
                self.assertEqual(c.get("/scores/198.51.100.7/log?since=" + since).status, 400)
        self.assertEqual(c.get("/api/server/198.51.100.7/log?since=1700000000").status, 200)
        self.assertEqual(c.get("/api/server/198.51.100.7/log?since=2026-01-01T00:00:00Z").status,
                         200)

    def test_csrf_token_only_in_the_body(self):
        c = self.client()
        c.get("/signup")
        token = c.last_csrf
        fields = {"email": self.unique_email(), "password": "a long password", "role": "volunteer"}
        before = self.db.snapshot()
        r = c.request("POST", "/signup?csrf=" + token, fields)
        self.assertEqual(r.status, 403)
        r = c.request("POST", "/signup", fields, headers={"X-CSRF-Token": token})
        self.assertEqual(r.status, 403)
        self.assert_nothing_written(before)
        self.assertEqual(c.post("/signup", fields).status, 303)

    def vendor_fields(self, name, **extra):
        return dict({"name": name, "organization": "ACME", "contact": "ops@acme.example",
                     "device_description": "clocks", "device_count": "1000",
                     "client_type": "ntp", "poll_description": ""}, **extra)

    def test_non_ascii_vendor_request_within_the_limits_is_accepted(self):
        c = self.client()
        c.signup(self.unique_email("vendor"), role="vendor")
        c.get("/vendor")
        # Every field near its limit in two-byte letters: about 13 KB percent-encoded.
        fields = self.vendor_fields(
            "umlaut-zone", organization="Ä" * 99, contact="Jürgen Müller <jm@acme.example>",
            device_description="Küchenuhr " + "ü" * 994, poll_description="zufällig " + "ö" * 995)
        self.assertGreater(len(webtest.urllib.parse.urlencode(fields)), 8192)
        self.assertLessEqual(len(fields["device_description"].encode()), 2000)
        r = c.post("/vendor/request", fields)
        self.assertEqual(r.status, 303, r.body[:300])
        self.assertEqual(self.db.one("SELECT organization FROM vendor_zones WHERE name = "
                                     "'umlaut-zone'"), "Ä" * 99)
        # Over the site's own limit (64 KB): a page that says so, and nothing written.
        before = self.db.snapshot()
        r = c.post("/vendor/request", self.vendor_fields("big-zone", device_description="x" * 70000))
        self.assertEqual(r.status, 413)
        self.assertIn("Form too large", r.body)
        self.assert_nothing_written(before)
        # Over the field's own limit: the form says which.
        r = c.post("/vendor/request", self.vendor_fields("long-zone", device_description="ü" * 1001))
        self.assertEqual(r.status, 400)
        self.assertIn("up to 2000", r.body)

    def test_posts_from_another_origin_are_refused(self):
        c = self.client()
        c.get("/signup")
        fields = {"email": self.unique_email(), "password": "a long password", "role": "volunteer"}
        before = self.db.snapshot()
        for origin in ("http://evil.example", "null", "http://127.0.0.1:8081",
                       "https://127.0.0.1:8080"):
            with self.subTest(origin=origin):
                r = c.request("POST", "/signup", dict(fields, csrf=c.last_csrf),
                              headers={"Origin": origin})
                self.assertEqual(r.status, 403, r.body[:300])
                self.assertIn("sent from another site", r.body)
        self.assert_nothing_written(before)
        # The configured site (mail.site_url, the harness's default) is accepted.
        r = c.request("POST", "/signup", dict(fields, csrf=c.last_csrf),
                      headers={"Origin": "http://127.0.0.1:8080"})
        self.assertEqual(r.status, 303, r.body[:300])


if __name__ == "__main__":
    webtest.main()
