#!/usr/bin/env python3
"""Inputs (issue 14 item 6): a form field or query parameter that is not valid UTF-8 or holds a
NUL gets a 400 page naming the field and what was wrong, and nothing is written (before: 503
from the database's encoding check, or text cut at the NUL); an out-of-range `since` is a 400
(before: 503, the database's timestamp overflow); the CSRF token counts only in the POST body,
never in the query string or a header."""

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


if __name__ == "__main__":
    webtest.main()
