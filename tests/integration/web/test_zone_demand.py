#!/usr/bin/env python3
"""Zone pages show the zone's demand (dns_demand, as the DNS servers count it), its capacity,
their ratio to the pool's and whether the zone is underserved, with a chart of the demand per
hour (issue 13, item 4); admins see the balancer's mixture for every country with demand.

The world of the balancer tests: lu has 3 servers of 512 kbit/s and most of the demand, de 10
of 25,000, us 12 of 100,000; fr has none and no demand."""

import re

import webtest


def seed_servers(q):
    servers = [("203.0.113.%d", "lu", 512, 3), ("192.0.2.%d", "de", 25000, 10),
               ("198.51.100.%d", "us", 100000, 12)]
    for pattern, cc, netspeed, n in servers:
        for i in range(n):
            q("INSERT INTO servers (address, country, netspeed, score) VALUES (%s, %s, %s, 15)",
              pattern % (i + 1), cc, netspeed)


def admin_get(test, path):
    if not test.db.one("SELECT count(*) FROM accounts WHERE email = 'mix-admin@example.org'"):
        test.db.create_admin("mix-admin@example.org", "admin password 1")
    c = test.client()
    test.assertEqual(c.login("mix-admin@example.org", "admin password 1").status, 303)
    return c.get(path).body


def mixture_row(test, body, cc):
    m = re.search(r'<tr id="mix-%s-4">(.*?)</tr>' % cc, body)
    test.assertIsNotNone(m, cc)
    return re.findall(r"<td[^>]*>(.*?)</td>", m.group(1))


class ZoneDemand(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        q = cls.db.q
        seed_servers(q)
        # The last hour: lu 6,000 queries, de and us 300 each; IPv6 and an older hour for the
        # chart only.
        q("INSERT INTO dns_demand (minute, zone_id, family, count) "
          "SELECT date_trunc('minute', now()) - interval '2 minutes', id, 4, "
          "CASE name WHEN 'lu' THEN 6000 ELSE 300 END FROM zones WHERE name IN ('lu', 'de', 'us')")
        q("INSERT INTO dns_demand (minute, zone_id, family, count) "
          "SELECT date_trunc('minute', now()) - interval '2 minutes', id, 6, 120 FROM zones "
          "WHERE name = 'lu'")
        q("INSERT INTO dns_demand (minute, zone_id, family, count) "
          "SELECT date_trunc('hour', now()) - interval '3 hours', id, 4, 2400 FROM zones "
          "WHERE name = 'lu'")

    def cell(self, body, ident):
        m = re.search(r'<td id="%s">(.*?)</td>' % ident, body)
        self.assertIsNotNone(m, "%s in %s" % (ident, body[-3000:]))
        return m.group(1)

    def test_underserved_country(self):
        body = self.client().get("/zone/lu").body
        self.assertEqual(self.cell(body, "zone-demand"), "100.0")  # 6,000 in the last hour
        self.assertEqual(self.cell(body, "zone-capacity"), "1.5 Mbit/s")
        # (6000 / 6600) / (1536 / 1451536)
        self.assertAlmostEqual(float(self.cell(body, "zone-ratio")),
                               (6000 / 6600) / (1536 / 1451536), delta=0.01)
        self.assertIn('<strong id="zone-underserved" class="warn">Underserved</strong>', body)
        chart = re.search(r'<figure id="zone-demand-chart">(.*?)</figure>', body, re.S)
        self.assertIsNotNone(chart)
        self.assertIn("<svg", chart.group(1))
        self.assertIn("IPv6", chart.group(1))

    def test_served_country_and_continent(self):
        body = self.client().get("/zone/de").body
        self.assertEqual(self.cell(body, "zone-demand"), "5.0")
        self.assertAlmostEqual(float(self.cell(body, "zone-ratio")),
                               (300 / 6600) / (250000 / 1451536), delta=0.01)
        self.assertIn('<span id="zone-underserved">Not underserved</span>', body)
        # A continent adds up its countries: lu and de, 95% of the demand on 17% of the capacity.
        body = self.client().get("/zone/europe").body
        self.assertEqual(self.cell(body, "zone-demand"), "105.0")
        self.assertAlmostEqual(float(self.cell(body, "zone-ratio")),
                               (6300 / 6600) / (251536 / 1451536), delta=0.01)
        self.assertIn('<strong id="zone-underserved" class="warn">Underserved</strong>', body)
        body = self.client().get("/zone/north-america").body
        self.assertEqual(self.cell(body, "zone-demand"), "5.0")
        self.assertIn('<span id="zone-underserved">Not underserved</span>', body)

    def test_zone_without_demand(self):
        body = self.client().get("/zone/fr").body
        self.assertEqual(self.cell(body, "zone-demand"), "0.0")
        self.assertEqual(self.cell(body, "zone-ratio"), "no demand counted")
        self.assertIn('<p id="zone-demand-chart">No demand counted yet.</p>', body)


class AdminMixtures(ZoneDemand):
    def test_admin_sees_the_mixtures(self):
        body = admin_get(self, "/admin/mixtures")
        self.assertIn('<table id="mixtures">', body)

        def row(cc):
            return mixture_row(self, body, cc)

        # lu's clients: almost nothing from lu's 3 small servers; de's and us's stay home.
        lu = row("lu")
        self.assertEqual(lu[:3], ["lu", "europe", "IPv4"])
        self.assertLess(float(lu[3].rstrip("%")), 1.0)
        self.assertGreater(float(lu[5].rstrip("%")), 50.0)
        self.assertEqual(row("us")[3], "100.0%")
        self.assertEqual(row("de")[3], "100.0%")
        # Not for anyone else.
        self.assertNotEqual(self.client().get("/admin/mixtures").status, 200)


class AdminMixturesWindow(webtest.WebTestCase):
    """/admin/mixtures reads the demand of dns.balancer_window, the window the DNS servers'
    balancer reads: with 90 minutes, lu's demand of 75 minutes ago counts and de's of 100
    minutes ago does not."""

    dns = {"balancer_window": 5400}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        seed_servers(cls.db.q)
        for cc, count, ago in (("lu", 6000, 75), ("de", 300, 100), ("us", 300, 2)):
            cls.db.q("INSERT INTO dns_demand (minute, zone_id, family, count) "
                     "SELECT date_trunc('minute', now()) - make_interval(mins => %s), id, 4, %s "
                     "FROM zones WHERE name = %s", ago, count, cc)

    def test_mixtures_use_the_balancer_window(self):
        body = admin_get(self, "/admin/mixtures")
        self.assertIn("From the demand of the last 90 minutes", body)
        # The bound as the balancer keeps it: factor times the median server (and the average).
        self.assertIn("more than 2.0 times the median server's load per netspeed", body)
        lu = mixture_row(self, body, "lu")
        self.assertLess(float(lu[3].rstrip("%")), 1.0)
        self.assertEqual(mixture_row(self, body, "us")[3], "100.0%")
        self.assertNotIn('<tr id="mix-de-4">', body)


class CurrentHour(webtest.WebTestCase):
    """The demand chart draws the current hour at its rate so far: nz's clients asked 30
    queries a minute through the previous hour and 120 a minute in every minute of this one
    (up to the newest minute counted), so the chart ends at 120, not at 120 times the share
    of the hour that has passed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db.q("INSERT INTO dns_demand (minute, zone_id, family, count) "
                 "SELECT m, z.id, 4, CASE WHEN m < date_trunc('hour', now()) THEN 30 ELSE 120 END "
                 "FROM zones z, generate_series(date_trunc('hour', now()) - interval '1 hour', "
                 "date_trunc('minute', now()), interval '1 minute') m WHERE z.name = 'nz'")

    def test_current_hour_at_its_rate_so_far(self):
        body = self.client().get("/zone/nz").body
        chart = re.search(r'<figure id="zone-demand-chart">(.*?)</figure>', body, re.S).group(1)
        # The plot's frame (web/graph.cpp): top 24, height 168; the top label is y_max.
        y_max = float(re.findall(r'class="yl">([0-9.]+)</text>', chart)[0])
        points = re.search(r'<polyline class="s0 line step" points="([^"]*)"', chart).group(1)
        ys = [float(p.split(",")[1]) for p in points.split()]
        values = [y_max - (y - 24) / 168 * y_max for y in ys]
        self.assertAlmostEqual(values[-1], 120, delta=1)
        self.assertAlmostEqual(values[0], 30, delta=1)
        self.assertEqual(y_max, 144)  # 1.2 x the peak, 120
        m = re.search(r'<p id="zone-demand-partial">(.*?)</p>', body)
        self.assertIsNotNone(m)
        self.assertIn("120.0 IPv4 queries per minute", m.group(1))


if __name__ == "__main__":
    webtest.main()
