#!/usr/bin/env python3
"""DNS load made visible: a vendor zone's counts (seeded as the DNS servers write them) give the
per-minute and per-hour charts, the recurring burst warning on the vendor page and in the admin
lists, and the JSON series for the zone's vendor and admins only; a volunteer sees how often
their own server was handed out in DNS answers, and not another's."""

import datetime

import webtest

ADMIN_PW = "admin password 1"
BASE = 20       # queries in an ordinary minute
SPIKE = 800     # 40 times BASE, every Wednesday at 07:15 UTC
WARNING = ("every Wednesday at 07:15 UTC your devices send 40 times your normal load in one "
           "minute")
ADVICE = "Spread the polls at random"


class Load(webtest.WebTestCase):
    settings = {"findings_interval_seconds": 1}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin_email = "load-admin@example.org"
        cls.db.create_admin(cls.admin_email, ADMIN_PW)
        cls.adm = webtest.Client(cls.web)
        assert cls.adm.login(cls.admin_email, ADMIN_PW).status == 303
        # An approved vendor zone "spiky" with 15 days of counts: BASE per minute, SPIKE at
        # Wednesday 07:15 UTC (at least two past Wednesdays lie in any 15 days), split over two
        # qtypes as the DNS servers store them. Hourly rows are the sums, as a flush writes them.
        cls.ven = webtest.Client(cls.web)
        cls.ven.signup("spiky-vendor@example.org", role="vendor")
        cls.ven.get("/vendor")
        r = cls.ven.post("/vendor/request", {
            "name": "spiky", "organization": "Spiky Devices", "contact": "s@spiky.test",
            "device_description": "clocks", "device_count": "5000", "client_type": "ntp",
            "poll_description": "every Wednesday at 07:15", "open_source": "yes"})
        assert r.status == 303, r.body
        cls.vid = cls.db.one("SELECT id FROM vendor_zones WHERE name = 'spiky'")
        cls.adm.get("/admin")
        assert cls.adm.post("/admin/vendor/%d/approve" % cls.vid, {}).status == 303
        cls.zid = cls.db.one("SELECT id FROM zones WHERE name = 'spiky'")
        cls.db.q(
            "INSERT INTO dns_query_counts (minute, zone_id, qtype, rcode, count) "
            "SELECT m, %s, t.qtype, 0, CASE WHEN extract(dow FROM m AT TIME ZONE 'UTC') = 3 "
            "  AND to_char(m AT TIME ZONE 'UTC', 'HH24:MI') = '07:15' THEN %s ELSE %s END / 2 "
            "FROM generate_series(date_trunc('minute', now()) - interval '15 days', "
            "                     date_trunc('minute', now()) - interval '1 minute', "
            "                     interval '1 minute') m, (VALUES (1), (28)) t(qtype)",
            cls.zid, SPIKE, BASE)
        cls.db.q("INSERT INTO dns_query_counts_hourly (hour, zone_id, qtype, rcode, count) "
                 "SELECT date_trunc('hour', minute), zone_id, qtype, rcode, sum(count) "
                 "FROM dns_query_counts WHERE zone_id = %s GROUP BY 1, 2, 3, 4", cls.zid)
        # The same spikes in a country zone: /admin/zones lists them, the vendor queue does not.
        cls.db.q("INSERT INTO dns_query_counts (minute, zone_id, qtype, rcode, count) "
                 "SELECT minute, (SELECT id FROM zones WHERE name = 'de'), qtype, rcode, count "
                 "FROM dns_query_counts WHERE zone_id = %s", cls.zid)
        # A flat zone: counted, never a burst.
        cls.flat = cls.db.one("INSERT INTO zones (name, kind, parent_id) SELECT 'flatco', 'vendor', id "
                              "FROM zones WHERE name = '@' RETURNING id")
        cls.db.q("INSERT INTO dns_query_counts (minute, zone_id, qtype, rcode, count) "
                 "SELECT m, %s, 1, 0, 30 FROM generate_series(date_trunc('minute', now()) - "
                 "interval '15 days', date_trunc('minute', now()) - interval '1 minute', "
                 "interval '1 minute') m", cls.flat)
        cls.db.q("INSERT INTO dns_query_counts_hourly (hour, zone_id, qtype, rcode, count) "
                 "SELECT date_trunc('hour', minute), zone_id, qtype, rcode, sum(count) "
                 "FROM dns_query_counts WHERE zone_id = %s GROUP BY 1, 2, 3, 4", cls.flat)
        cls.db.wait_findings()

    def test_vendor_page_shows_charts_and_the_burst(self):
        page = self.ven.get("/vendor/%d" % self.vid)
        self.assertEqual(page.status, 200)
        self.assertIn('id="bursts"', page.body)
        self.assertIn(WARNING, page.body)
        self.assertIn(ADVICE, page.body)
        self.assertIn("DNS queries per minute (last 24 hours)", page.body)
        self.assertIn("DNS queries per hour (last 90 days)", page.body)
        self.assertEqual(page.body.count("<svg"), 2)
        self.assertNotIn("every day at", page.body)
        # Another vendor cannot read it.
        other = webtest.Client(self.web)
        other.signup(self.unique_email("vendor"), role="vendor")
        self.assertEqual(other.get("/vendor/%d" % self.vid).status, 403)

    def test_admin_lists_show_the_burst(self):
        queue = self.adm.get("/admin")
        self.assertEqual(queue.status, 200)
        self.assertIn('data-zone="spiky"', queue.body)
        self.assertIn(WARNING, queue.body)
        self.assertIn(ADVICE, queue.body)
        self.assertNotIn('data-zone="flatco"', queue.body)
        self.assertNotIn('data-zone="de"', queue.body)
        zones = self.adm.get("/admin/zones")
        self.assertEqual(zones.status, 200)
        row = zones.body[zones.body.index('id="zone-spiky"'):]
        row = row[:row.index("</tr>")]
        self.assertIn(WARNING, row)
        de = zones.body[zones.body.index('id="zone-de"'):]
        self.assertIn(WARNING, de[:de.index("</tr>")])
        flat = zones.body[zones.body.index('id="zone-flatco"'):]
        self.assertIn("<td>none</td>", flat[:flat.index("</tr>")])
        load = self.adm.get("/admin/zones/spiky")
        self.assertEqual(load.status, 200)
        self.assertIn(WARNING, load.body)
        self.assertEqual(load.body.count("<svg"), 2)
        flat_load = self.adm.get("/admin/zones/flatco")
        self.assertIn('id="no-bursts"', flat_load.body)
        self.assertEqual(self.adm.get("/admin/zones/nosuchzone").status, 404)
        # Not for vendors or volunteers.
        self.assertEqual(self.ven.get("/admin/zones").status, 403)
        self.assertEqual(self.ven.get("/admin/zones/spiky").status, 403)

    def test_json_series_and_access(self):
        for c in (self.ven, self.adm):
            r = c.get("/api/zone/spiky/queries?resolution=minute")
            self.assertEqual(r.status, 200, r.body)
            j = r.json()
            self.assertEqual(j["resolution"], "minute")
            expect = dict(self.db.q(
                "SELECT extract(epoch FROM minute)::bigint, sum(count)::bigint FROM dns_query_counts "
                "WHERE zone_id = %s AND minute >= to_timestamp(%s) AND minute < to_timestamp(%s) "
                "GROUP BY minute", self.zid, j["from"], j["to"]))
            got = {t: v for t, v in j["counts"]}
            self.assertGreaterEqual(len(got), 24 * 60 - 2)
            self.assertEqual(got, expect)
            self.assertTrue(set(got.values()) <= {BASE, SPIKE})
            self.assertEqual([b["weekday"] for b in j["bursts"]], ["Wednesday"])
            self.assertEqual(j["bursts"][0]["minute_of_day"], 7 * 60 + 15)
            self.assertEqual(j["bursts"][0]["warning"], WARNING)
        h = self.ven.get("/api/zone/spiky/queries?resolution=hour").json()
        self.assertEqual(h["resolution"], "hour")
        hours = dict(self.db.q(
            "SELECT extract(epoch FROM hour)::bigint, sum(count)::bigint FROM dns_query_counts_hourly "
            "WHERE zone_id = %s GROUP BY hour", self.zid))
        self.assertEqual({t: v for t, v in h["counts"]}, hours)
        self.assertEqual(sum(v for _, v in h["counts"]),
                         self.db.one("SELECT sum(count) FROM dns_query_counts WHERE zone_id = %s",
                                     self.zid))
        self.assertEqual(self.ven.get("/api/zone/spiky/queries?resolution=day").status, 400)
        # Another vendor, a volunteer, and anonymous visitors are refused.
        other = webtest.Client(self.web)
        other.signup(self.unique_email("vendor"), role="vendor")
        r = other.get("/api/zone/spiky/queries?resolution=minute")
        self.assertEqual(r.status, 403)
        self.assertNotIn("counts", r.json())
        self.assertEqual(other.get("/api/zone/flatco/queries").status, 403)
        vol = webtest.Client(self.web)
        vol.signup(self.unique_email("vol"))
        self.assertEqual(vol.get("/api/zone/spiky/queries").status, 403)
        anon = webtest.Client(self.web)
        self.assertEqual(anon.get("/api/zone/spiky/queries?resolution=hour").status, 401)
        # Admins read any zone, vendors' or not.
        self.assertEqual(self.adm.get("/api/zone/flatco/queries").status, 200)
        self.assertEqual(self.adm.get("/api/zone/nosuchzone/queries").status, 404)

    def test_volunteer_sees_own_answer_counts_only(self):
        mine_email, theirs_email = self.unique_email("vol"), self.unique_email("vol")
        mine, theirs = webtest.Client(self.web), webtest.Client(self.web)
        mine.signup(mine_email)
        theirs.signup(theirs_email)

        def server(email, addr):
            owner = self.db.one("SELECT id FROM accounts WHERE email = %s", email)
            return self.db.one("INSERT INTO servers (address, owner_id, netspeed, country, score) "
                               "VALUES (%s, %s, 1500, 'de', 15) RETURNING id", addr, owner)

        sid, other_sid = server(mine_email, "198.51.100.77"), server(theirs_email, "198.51.100.78")
        # Three hours of answers for mine (4321, 4322, 4323), one old hour that is out of range,
        # and a distinctive count for the other volunteer's server.
        self.db.q("INSERT INTO dns_server_answers (hour, server_id, count) "
                  "SELECT date_trunc('hour', now()) - make_interval(hours => g), %s, 4320 + g "
                  "FROM generate_series(1, 3) g", sid)
        self.db.q("INSERT INTO dns_server_answers (hour, server_id, count) "
                  "VALUES (date_trunc('hour', now()) - interval '3 days', %s, 99999)", sid)
        self.db.q("INSERT INTO dns_server_answers (hour, server_id, count) "
                  "VALUES (date_trunc('hour', now()) - interval '2 hours', %s, 7777)", other_sid)
        page = mine.get("/servers/%d" % sid)
        self.assertEqual(page.status, 200)
        for n in ("4321", "4322", "4323"):
            self.assertIn('<td class="num">%s</td>' % n, page.body)
        self.assertIn("12966 answers in the last 24 hours", page.body)
        self.assertNotIn("99999", page.body)
        self.assertNotIn("7777", page.body)
        self.assertEqual(page.body.count("<svg"), 1)
        listing = mine.get("/servers")
        self.assertIn('<td class="num answers">12966</td>', listing.body)
        self.assertNotIn("7777", listing.body)
        # The other volunteer's page is not mine to read.
        self.assertEqual(mine.get("/servers/%d" % other_sid).status, 403)
        theirs_page = theirs.get("/servers/%d" % other_sid)
        self.assertIn('<td class="num">7777</td>', theirs_page.body)
        self.assertNotIn("4321", theirs_page.body)


if __name__ == "__main__":
    webtest.main()
