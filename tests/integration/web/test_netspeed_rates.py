#!/usr/bin/env python3
"""The add and edit forms show the load to expect at each netspeed (issue 13, item 4): the
demand the DNS servers counted (dns_demand, over dns.balancer_window) shared out by the
balancer over the servers in DNS with the new server added. Works without JavaScript: the
table is in the page, and "Show the expected load" posts the form back with its country.

The world: de has 10 IPv4 servers of 25,000 kbit/s, us 12 of 100,000; no IPv6 servers. In
the last hour de's clients asked 7,200 IPv4 and 3,600 IPv6 queries, us's 36,000 IPv4. Both
countries hold their clients within the bound (twice the pool's average load per netspeed)
for every netspeed up to 1 Gbit/s, so a new de server of netspeed n gets de's own demand
shared by netspeed: 7200 * n / (250000 + n) per hour. An IPv6 server in de would be the only
one: below geo_min_servers neither de nor europe is a tier, so it takes every IPv6 query from
the global tier, 1 per second at any netspeed."""

import re

import webtest

CHECKED = [512, 1500, 3000, 6000, 12000, 25000, 50000, 100000, 250000, 500000, 1000000]


def rates(body):
    """{netspeed: (v4 text, v6 text or None, chosen)} from the rates table."""
    out = {}
    row = r'<tr data-netspeed="(\d+)"( class="chosen")? data-expect="[^"]*">(.*?)</tr>'
    for m in re.finditer(row, body):
        cells = re.findall(r'<td class="num">(.*?)</td>', m.group(3))
        out[int(m.group(1))] = (cells + [None, None])[:2] + [bool(m.group(2))]
    return out


class NetspeedRates(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        q = cls.db.q
        for pattern, cc, netspeed, n in (("192.0.2.%d", "de", 25000, 10),
                                         ("198.51.100.%d", "us", 100000, 12)):
            for i in range(n):
                q("INSERT INTO servers (address, country, netspeed, score) VALUES (%s, %s, %s, 15)",
                  pattern % (i + 1), cc, netspeed)
        for cc, family, per_row in (("de", 4, 900), ("de", 6, 450), ("us", 4, 4500)):
            q("INSERT INTO dns_demand (minute, zone_id, family, count) "
              "SELECT date_trunc('minute', now()) - make_interval(mins => g), z.id, %s, %s "
              "FROM generate_series(1, 8) g, zones z WHERE z.name = %s", family, per_row, cc)

    def volunteer(self):
        c = self.client()
        email = self.unique_email("rates")
        c.signup(email)
        return c, email

    def check(self, table, n, v4, v6=None):
        got = table[n]
        self.assertAlmostEqual(float(got[0]), v4, delta=v4 * 0.006, msg="IPv4 at %d" % n)
        if v6 is not None:
            self.assertAlmostEqual(float(got[1]), v6, delta=v6 * 0.006, msg="IPv6 at %d" % n)

    def test_add_form_for_a_country(self):
        c, _ = self.volunteer()
        body = c.get("/servers?country=de").body
        self.assertIn('<div id="netspeed-rates" class="rates" data-country="de">', body)
        self.assertIn("Expected load for a server in Germany (de), an estimate", body)
        self.assertIn("over the last 60 minutes", body)
        table = rates(body)
        self.assertEqual(sorted(table), [0, 512, 1500, 3000, 6000, 12000, 25000, 50000, 100000,
                                         250000, 500000, 1000000, 1500000, 2000000, 3000000])
        self.assertEqual(table[0][:2], ["none", "none"])
        for n in CHECKED:
            self.check(table, n, 7200 * n / (250000 + n) / 3600, 1.0)
        # The default choice, 1.5 Mbit/s, is marked and said in words.
        self.assertTrue(table[1500][2])
        m = re.search(r'<p id="netspeed-expect">(.*?)</p>', body)
        self.assertIn("At 1.5 Mbit/s expect about 0.0119 for an IPv4 server, 1 for an IPv6 "
                      "server (DNS queries per second, estimated).", m.group(1))
        # Each row carries its sentence for the script that follows the select.
        self.assertIn('data-expect="At 100 Mbit/s expect about 0.571 for an IPv4 server, 1 for '
                      'an IPv6 server (DNS queries per second, estimated)."', body)
        js = c.get("/static/netspeed.js")
        self.assertEqual(js.status, 200)
        self.assertEqual(js.header("Content-Type"), "text/javascript; charset=utf-8")
        self.assertIn("netspeed-expect", js.body)

    def test_show_button_posts_back_without_adding(self):
        c, _ = self.volunteer()
        c.get("/servers")
        before = self.db.count("servers")
        r = c.post("/servers/add", {"address": "", "netspeed": "100000", "country": "de",
                                    "rates": "1"})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.db.count("servers"), before)
        table = rates(r.body)
        self.assertTrue(table[100000][2])
        self.check(table, 100000, 7200 * 100000 / 350000 / 3600, 1.0)
        self.assertIn('<option value="de" selected>', r.body)
        self.assertIn("At 100 Mbit/s expect about 0.571 for an IPv4 server", r.body)

    def test_pool_average_without_a_country(self):
        c, _ = self.volunteer()
        body = c.get("/servers").body
        self.assertIn("Expected load for a server in the pool as a whole", body)
        table = rates(body)
        for n in CHECKED:
            self.check(table, n, 43200 * n / (1450000 + n) / 3600, 1.0)

    def test_edit_form_moves_the_servers_own_share(self):
        c, email = self.volunteer()
        sid = self.db.one("UPDATE servers SET owner_id = (SELECT id FROM accounts WHERE email = %s) "
                          "WHERE address = '192.0.2.1' RETURNING id", email)
        body = c.get("/servers/%d" % sid).body
        self.assertIn('<form method="post" action="/servers/%d/netspeed" class="card" '
                      'id="netspeed-form">' % sid, body)
        table = rates(body)
        # An IPv4 server: one column; its own 25,000 kbit/s are replaced, not added to.
        self.assertIsNone(table[512][1])
        self.assertTrue(table[25000][2])
        for n in CHECKED:
            self.check(table, n, 7200 * n / (225000 + n) / 3600)
        self.assertAlmostEqual(float(table[25000][0]), 0.2, delta=0.001)
        self.assertIn("At 25 Mbit/s expect about 0.2 for an IPv4 server", body)

    def test_another_country(self):
        c, _ = self.volunteer()
        # us's servers carry its own clients: 36,000 per hour shared by netspeed.
        table = rates(c.get("/servers?country=us").body)
        for n in (1500, 25000, 100000):
            self.check(table, n, 36000 * n / (1200000 + n) / 3600)
        # A country without servers or demand: a lone server there gets a share of its
        # continent's or the global tier only; shown, not refused.
        self.assertIn('data-country="fr"', c.get("/servers?country=fr").body)


if __name__ == "__main__":
    webtest.main()
