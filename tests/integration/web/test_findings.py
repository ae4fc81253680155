#!/usr/bin/env python3
"""Findings of real fleets, replayed through the real statistics tables (dns_query_counts and
dns_query_counts_hourly, written as the DNS servers' flushes write them) and found by the
findings job of the real timepool-web: the seed's fleet (weekly at 19:45 with 2 minutes of clock
skew, five weeks of history), a busy zone with an absolute burst, a Sunday and Wednesday fleet,
an every-other-week fleet and a fleet seen once, against quiet controls (the same volume spread
evenly, a one-off spike, an outage and its recovery). Checks the wording on the vendor page (the
finding and its fix first), the zone list, the admin queue and the API, API tokens, and the
retention of the counts."""

import json
import re
import subprocess

import webtest

ADMIN_PW = "admin password 1"
MINUTE = "(extract(epoch FROM m)::bigint / 60)"
DOW = "extract(dow FROM m AT TIME ZONE 'UTC')"
HHMM = "to_char(m AT TIME ZONE 'UTC', 'HH24:MI')"
# Epoch weeks counted from Sunday 1970-01-04, for "every other week".
WEEK = "((extract(epoch FROM m)::bigint / 86400 - 3) / 7)"

# zone -> (client type, SQL expression for the count of minute m, days of history)
ZONES = {
    # The seed's fleet: 500 queries every Sunday, spread over 19:45-19:47 by clock skew, on a
    # near-empty zone (0-2 queries a minute).
    "seedfleet": ("ntp", "CASE WHEN %s = 0 AND %s = '19:45' THEN 250 WHEN %s = 0 AND %s = '19:46' "
                  "THEN 170 WHEN %s = 0 AND %s = '19:47' THEN 80 ELSE mod(%s, 3) END"
                  % (DOW, HHMM, DOW, HHMM, DOW, HHMM, MINUTE), 35),
    # A busy zone (60 a minute) with 500 every Wednesday at 07:00: 8 times, absolute excess 440.
    "busyco": ("sntp", "CASE WHEN %s = 3 AND %s = '07:00' THEN 500 ELSE 60 END" % (DOW, HHMM), 35),
    # Sundays and Wednesdays at 19:45.
    "sunwed": ("ntp", "CASE WHEN %s IN (0, 3) AND %s = '19:45' THEN 500 ELSE mod(%s, 2) END"
               % (DOW, HHMM, MINUTE), 35),
    # Every other Sunday at 19:45.
    "biweekly": ("sntp", "CASE WHEN %s = 0 AND %s = '19:45' AND mod(%s, 2) = 0 THEN 500 ELSE mod(%s, 2) END"
                 % (DOW, HHMM, WEEK, MINUTE), 35),
    # Controls. The seed fleet's weekly volume spread evenly: one query every 20 minutes.
    "spreadco": ("ntp", "CASE WHEN mod(%s, 20) = 0 THEN 1 ELSE 0 END" % MINUTE, 35),
    # One spike of 9000, twenty days ago, on 20 a minute.
    "oneoffco": ("ntp", "CASE WHEN m = date_trunc('minute', now()) - interval '20 days' "
                 "THEN 9000 ELSE 20 END", 35),
    # 60 a minute, a two-hour outage ten days ago, then three times the load for a minute.
    "outageco": ("ntp", "CASE WHEN m >= date_trunc('hour', now()) - interval '10 days' AND "
                 "m < date_trunc('hour', now()) - interval '10 days' + interval '2 hours' THEN 0 "
                 "WHEN m = date_trunc('hour', now()) - interval '10 days' + interval '2 hours' "
                 "THEN 180 ELSE 60 END", 35),
    # A fleet's first burst, three hours ago: shown at once, watched.
    "newfleet": ("sntp", "CASE WHEN m = date_trunc('minute', now()) - interval '3 hours' THEN 800 "
                 "ELSE mod(%s, 2) END" % MINUTE, 35),
}
CONTROLS = ("spreadco", "oneoffco", "outageco")

SEED_RE = (r"every Sunday at 19:45-19:47 UTC your devices send [0-9]+ times your normal load for "
           r"3 minutes")
BUSY = "every Wednesday at 07:00 UTC your devices send 8 times your normal load in one minute"
SUNWED_RE = r"on Sundays and Wednesdays at 19:45 UTC your devices send [0-9]+ times your normal load in one minute"
BIWEEKLY_RE = r"every other Sunday at 19:45 UTC your devices send [0-9]+ times your normal load in one minute"
ONCE_RE = (r"seen once, watching: on [A-Z][a-z]+day 20[0-9]{2}-[0-9]{2}-[0-9]{2} at [0-9]{2}:[0-9]{2} "
           r"UTC your devices sent [0-9]+ times your normal load in one minute")


class Findings(webtest.WebTestCase):
    settings = {"findings_interval_seconds": 1}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db.create_admin("findings-admin@example.org", ADMIN_PW)
        cls.adm = webtest.Client(cls.web)
        assert cls.adm.login("findings-admin@example.org", ADMIN_PW).status == 303
        cls.ven = webtest.Client(cls.web)
        cls.ven.signup("fleet-vendor@example.org", role="vendor")
        account = cls.db.one("SELECT id FROM accounts WHERE email = 'fleet-vendor@example.org'")
        cls.vid, cls.zid = {}, {}
        for name, (client, expr, days) in ZONES.items():
            cls.zid[name] = cls.db.one(
                "INSERT INTO zones (name, kind, parent_id, description) "
                "SELECT %s, 'vendor', id, %s FROM zones WHERE kind = 'global' RETURNING id",
                name, name + " devices")
            cls.vid[name] = cls.db.one(
                "INSERT INTO vendor_zones (name, account_id, organization, contact, "
                "device_description, device_count, client_type, status, zone_id, decided_at) "
                "VALUES (%s, %s, 'Fleet Inc', 'ops@fleet.test', 'clocks', 50000, %s, 'approved', "
                "%s, now()) RETURNING id", name, account, client, cls.zid[name])
            # As the DNS servers write them: A and AAAA rows (the series adds them up), zero
            # counts left out, and the hourly sums in the same "flush".
            cls.db.q(
                "INSERT INTO dns_query_counts (minute, zone_id, qtype, rcode, count) "
                "SELECT m, %s, t.qtype, 0, c - CASE WHEN t.qtype = 1 THEN c / 2 ELSE c - c / 2 END "
                "FROM (SELECT m, (" + expr + ")::bigint AS c FROM generate_series("
                "  date_trunc('minute', now()) - make_interval(days => %s), "
                "  date_trunc('minute', now()) - interval '1 minute', interval '1 minute') m) s, "
                "  (VALUES (1), (28)) t(qtype) "
                "WHERE c - CASE WHEN t.qtype = 1 THEN c / 2 ELSE c - c / 2 END > 0",
                cls.zid[name], days)
            cls.db.q("INSERT INTO dns_query_counts_hourly (hour, zone_id, qtype, rcode, count) "
                     "SELECT date_trunc('hour', minute), zone_id, qtype, rcode, sum(count) "
                     "FROM dns_query_counts WHERE zone_id = %s GROUP BY 1, 2, 3, 4", cls.zid[name])
        cls.db.wait_findings()

    def findings(self, name, client=None):
        r = (client or self.ven).get("/api/zone/%s/findings" % name)
        self.assertEqual(r.status, 200, r.body)
        return r.json()["findings"]

    def test_each_fleet_is_named_correctly_in_the_api(self):
        seed = self.findings("seedfleet")
        self.assertEqual(len(seed), 1, seed)
        f = seed[0]
        self.assertEqual((f["kind"], f["period"], f["weekdays"]), ("recurring", "weekly", ["Sunday"]))
        self.assertEqual((f["minute_of_day"], f["window_minutes"]), (19 * 60 + 45, 3))
        self.assertEqual(f["typical_count"], 500)
        self.assertRegex(f["warning"], "^" + SEED_RE + "$")
        # Four Sundays lie in the 28 days the job reads, each one window of 3 minutes.
        self.assertIn(len(f["windows"]), (4, 5))
        for a, b in f["windows"]:
            self.assertEqual(b - a, 180)
        self.assertLessEqual(f["first_seen"], f["last_seen"])

        busy = self.findings("busyco")
        self.assertEqual([x["warning"] for x in busy], [BUSY])
        self.assertEqual(busy[0]["typical_count"], 500)

        sunwed = self.findings("sunwed")
        self.assertEqual(len(sunwed), 1, sunwed)
        self.assertEqual(sunwed[0]["weekdays"], ["Sunday", "Wednesday"])
        self.assertRegex(sunwed[0]["warning"], "^" + SUNWED_RE + "$")

        bi = self.findings("biweekly")
        self.assertEqual(len(bi), 1, bi)
        self.assertEqual(bi[0]["period"], "every-other-week")
        self.assertRegex(bi[0]["warning"], "^" + BIWEEKLY_RE + "$")

        new = self.findings("newfleet")
        self.assertEqual(len(new), 1, new)
        self.assertEqual((new[0]["kind"], new[0]["period"]), ("once", "once"))
        self.assertRegex(new[0]["warning"], "^" + ONCE_RE + "$")

        for name in CONTROLS:
            self.assertEqual(self.findings(name), [], name)

    def test_the_vendor_page_leads_with_the_finding_and_its_fix(self):
        page = self.ven.get("/vendor/%d" % self.vid["seedfleet"])
        self.assertEqual(page.status, 200)
        body = page.body
        self.assertRegex(body, SEED_RE)
        # The finding and its fix come before the charts, the names and the snippets.
        at = body.index('id="findings"')
        for later in ("<svg", 'id="names"', "ntpd / ntpsec", "Your request"):
            self.assertLess(at, body.index(later), later)
        fixes = body[body.index('id="fixes"'):body.index("</ol>", body.index('id="fixes"'))]
        self.assertIn("Run an NTP daemon instead of one-shot queries", fixes)
        self.assertIn("pool 0.seedfleet.pool.test iburst", fixes)
        self.assertIn("Respect Kiss-o&#39;-Death", fixes)
        self.assertNotIn("random delay", fixes)
        # A one-shot (SNTP) fleet is told to add a random delay, as for a cron job.
        busy = self.ven.get("/vendor/%d" % self.vid["busyco"]).body
        self.assertIn(BUSY, busy)
        self.assertIn("Add a random delay before each query", busy)
        self.assertIn("sleep $(shuf -i 0-3599 -n 1) &amp;&amp; sntp -S busyco.pool.test", busy)
        # The burst windows are marked on the charts (the 24-hour chart only when one fell in
        # it: always on the 90-day one).
        self.assertIn('class="burst-mark"', body)
        newfleet = self.ven.get("/vendor/%d" % self.vid["newfleet"]).body
        self.assertRegex(newfleet, ONCE_RE)
        self.assertIn("A burst seen once is watched", newfleet)
        minute_chart = newfleet[newfleet.index("DNS queries per minute"):]
        minute_chart = minute_chart[:minute_chart.index("</svg>")]
        self.assertEqual(minute_chart.count('class="burst-mark"'), 1)
        self.assertIn('class="s0 line step"', minute_chart)
        for name in CONTROLS:
            control = self.ven.get("/vendor/%d" % self.vid[name]).body
            self.assertIn('id="no-findings"', control)
            self.assertNotIn("burst-warning", control)

    def test_the_zone_list_and_the_admin_queue_show_which_zones_have_findings(self):
        listing = self.ven.get("/vendor").body
        for name in ZONES:
            row = listing[listing.index('data-zone="%s"' % name):]
            row = row[:row.index("</tr>")]
            if name in CONTROLS:
                self.assertIn(">none<", row, name)
            else:
                self.assertIn("finding-flag", row, name)
        self.assertRegex(listing, "1 finding: " + SEED_RE)
        admin = self.adm.get("/admin").body
        for name in ("seedfleet", "busyco", "sunwed", "biweekly", "newfleet"):
            self.assertIn('data-zone="%s"' % name, admin)
        for name in CONTROLS:
            self.assertNotIn('data-zone="%s"' % name, admin)
        self.assertIn(BUSY, admin)
        self.assertIn('id="findings-updated"', admin)
        zones = self.adm.get("/admin/zones").body
        self.assertRegex(zones, SUNWED_RE)

    def test_api_tokens(self):
        page = self.ven.get("/vendor/%d" % self.vid["seedfleet"])
        self.assertIn('id="token-form"', page.body)
        r = self.ven.post("/vendor/%d/tokens" % self.vid["seedfleet"], {"label": "monitoring script"})
        # POST-redirect-GET: the zone's page shows the new token once.
        self.assertEqual(r.status, 303, r.body)
        r = self.ven.get(r.header("Location"))
        token = re.search(r'<pre id="new-token">(tpk_[0-9a-f]{64})</pre>', r.body).group(1)
        self.assertIn("created for zone seedfleet", r.body)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertNotIn(token, self.ven.get("/vendor/%d" % self.vid["seedfleet"]).body)
        # Stored hashed: the token itself is nowhere in the database.
        self.assertEqual(self.db.one("SELECT count(*) FROM api_tokens WHERE token_hash = %s", token), 0)
        self.assertIsNone(self.db.one("SELECT last_used_at FROM api_tokens WHERE label = 'monitoring script'"))
        # A script: no cookies, only the header.
        script = webtest.Client(self.web)
        auth = {"Authorization": "Bearer " + token}
        j = script.request("GET", "/api/zone/seedfleet/findings", headers=auth)
        self.assertEqual(j.status, 200, j.body)
        self.assertRegex(j.json()["findings"][0]["warning"], SEED_RE)
        q = script.request("GET", "/api/zone/seedfleet/queries?resolution=hour", headers=auth)
        self.assertEqual(q.status, 200)
        self.assertGreater(len(q.json()["counts"]), 0)
        self.assertIsNotNone(self.db.one("SELECT last_used_at FROM api_tokens WHERE label = 'monitoring script'"))
        shown = self.ven.get("/vendor/%d" % self.vid["seedfleet"]).body
        self.assertIn("monitoring script", shown)
        self.assertNotIn(token, shown)  # shown once only
        # Its own zone only; unknown zones look like another vendor's; bad tokens are 401.
        self.assertEqual(script.request("GET", "/api/zone/busyco/findings", headers=auth).status, 403)
        self.assertEqual(script.request("GET", "/api/zone/nosuchzone/findings", headers=auth).status, 403)
        self.assertEqual(script.request("GET", "/api/zone/seedfleet/findings",
                                        headers={"Authorization": "Bearer tpk_" + "0" * 64}).status, 401)
        self.assertEqual(script.request("GET", "/api/zone/seedfleet/findings",
                                        headers={"Authorization": "Basic abc"}).status, 401)
        anon = script.request("GET", "/api/zone/seedfleet/findings")
        self.assertEqual(anon.status, 401)
        self.assertIn("Bearer", anon.header("WWW-Authenticate"))
        # It does not log in to the site.
        self.assertNotEqual(script.request("GET", "/vendor", headers=auth).status, 200)
        # Another vendor cannot make or revoke tokens for this zone.
        other = webtest.Client(self.web)
        other.signup(self.unique_email("vendor"), role="vendor")
        other.get("/vendor")
        self.assertEqual(other.post("/vendor/%d/tokens" % self.vid["seedfleet"], {"label": "x"}).status, 403)
        tid = self.db.one("SELECT id FROM api_tokens WHERE label = 'monitoring script'")
        self.assertEqual(other.post("/vendor/%d/tokens/%d/revoke" % (self.vid["seedfleet"], tid), {}).status, 403)
        # Revoked: refused at once.
        self.ven.get("/vendor/%d" % self.vid["seedfleet"])
        self.assertEqual(self.ven.post("/vendor/%d/tokens/%d/revoke" % (self.vid["seedfleet"], tid), {}).status, 303)
        self.assertEqual(script.request("GET", "/api/zone/seedfleet/findings", headers=auth).status, 401)
        self.assertNotIn("monitoring script", self.ven.get("/vendor/%d" % self.vid["seedfleet"]).body)
        # Admins read any zone's findings; an unknown zone is 404 for them only.
        self.assertEqual(self.adm.get("/api/zone/nosuchzone/findings").status, 404)
        self.assertEqual(self.ven.get("/api/zone/nosuchzone/findings").status, 403)
        self.assertEqual(len(self.findings("sunwed", self.adm)), 1)

    def test_timepoolctl_lists_the_stored_findings(self):
        ctl = [webtest.CTL, "--set", "database.conninfo=dbname=" + self.db.name, "findings"]
        out = subprocess.run(ctl, capture_output=True, text=True, check=True).stdout
        self.assertRegex(out, SEED_RE)
        self.assertRegex(out, SUNWED_RE)
        self.assertIn("every-other-week", out)
        self.assertIn("computed by timepool-web at ", out)
        for name in CONTROLS:
            self.assertNotIn(name, out)
        j = json.loads(subprocess.run(ctl + ["--zone", "busyco", "--json"], capture_output=True,
                                      text=True, check=True).stdout)
        self.assertEqual([f["warning"] for f in j["findings"]], [BUSY])
        self.assertEqual(j["findings"][0]["zone"], "busyco")
        none = subprocess.run(ctl + ["--zone", "spreadco"], capture_output=True, text=True, check=True)
        self.assertIn("no findings for spreadco", none.stdout)
        bad = subprocess.run(ctl + ["--zone", "nosuchzone"], capture_output=True, text=True)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("no zone named", bad.stderr)

    def test_retention_keeps_what_detection_reads(self):
        zid = self.zid["spreadco"]
        self.db.q("INSERT INTO dns_query_counts (minute, zone_id, qtype, rcode, count) VALUES "
                  "(date_trunc('minute', now()) - interval '34 days', %s, 16, 0, 1), "
                  "(date_trunc('minute', now()) - interval '36 days', %s, 16, 0, 1)", zid, zid)
        self.db.q("INSERT INTO dns_query_counts_hourly (hour, zone_id, qtype, rcode, count) VALUES "
                  "(date_trunc('hour', now()) - interval '300 days', %s, 16, 0, 1), "
                  "(date_trunc('hour', now()) - interval '401 days', %s, 16, 0, 1)", zid, zid)
        self.db.one("SELECT dns_stats_prune()")
        self.assertEqual(self.db.one("SELECT count(*) FROM dns_query_counts WHERE zone_id = %s "
                                     "AND qtype = 16", zid), 1)
        self.assertEqual(self.db.one("SELECT count(*) FROM dns_query_counts WHERE zone_id = %s "
                                     "AND minute >= now() - interval '28 days'", zid),
                         self.db.one("SELECT count(*) FROM dns_query_counts WHERE zone_id = %s "
                                     "AND minute >= now() - interval '28 days' AND qtype <> 16", zid))
        self.assertEqual(self.db.one("SELECT count(*) FROM dns_query_counts_hourly WHERE zone_id = %s "
                                     "AND qtype = 16", zid), 1)


if __name__ == "__main__":
    webtest.main()
