#!/usr/bin/env python3
"""Public pages and the JSON API: counts on the home and zone pages, the score page with its
SVG graph, the history as CSV and JSON with since/limit, and JSON errors with status codes."""

import csv
import io
import time

import webtest


class Public(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        q = cls.db.q
        q("INSERT INTO monitors (name, key_hash, status) VALUES ('mon-a', 'ka', 'active'), "
          "('mon-b', 'kb', 'active')")
        # In DNS: two IPv4 (de), one IPv6 (gb). Not in DNS: low score, monitoring only, deleting.
        for addr, country, score, speed, deletion in (
                ("198.51.200.1", "de", 15, 1500, None), ("198.51.200.2", "de", 19, 3000, None),
                ("2a00:1450:4001::5", "gb", 12, 1500, None), ("198.51.200.3", "de", 5, 1500, None),
                ("198.51.200.4", "de", 18, 0, None), ("198.51.200.5", "fr", 18, 1500, "2030-01-01")):
            q("INSERT INTO servers (address, netspeed, country, score, deletion_on) "
              "VALUES (%s, %s, %s, %s, %s)", addr, speed, country, score, deletion)
        sid = cls.db.one("SELECT id FROM servers WHERE address = '198.51.200.1'")
        cls.sid = sid
        # 10 probes per monitor, one a minute, the newest 1 minute ago; one with an error.
        q("INSERT INTO probe_log (ts, server_id, monitor_id, step, score, offset_s, rtt_s, stratum, "
          "leap, error) SELECT now() - make_interval(mins => g) - (m.id * interval '1 second'), %s, "
          "m.id, 1, 10 + g * 0.5, 0.001 * g, 0.02, 2, 0, "
          "CASE WHEN g = 5 THEN 'timeout, then \"nothing\"' END "
          "FROM generate_series(1, 10) g, monitors m", sid)
        q("INSERT INTO server_scores (server_id, monitor_id, score, step, offset_s, rtt_s, stratum, leap) "
          "SELECT %s, id, 15, 1, 0.001, 0.02, 2, 0 FROM monitors", sid)

    def test_home_counts(self):
        r = self.client().get("/")
        self.assertEqual(r.status, 200)
        self.assertIn('<strong id="active-v4">2</strong>', r.body)
        self.assertIn('<strong id="active-v6">1</strong>', r.body)
        for words in ("Kiss-o'-Death", "random minute", "vendor zone", "hard-code"):
            self.assertIn(words, r.body)

    def test_zone_pages(self):
        c = self.client()
        de = c.get("/zone/de")
        self.assertEqual(de.status, 200)
        self.assertIn('<td id="zone-v4">2</td>', de.body)
        self.assertIn("4.5 Mbit/s", de.body)
        europe = c.get("/zone/europe")
        self.assertIn('<td id="zone-v4">2</td>', europe.body)
        self.assertIn('<td id="zone-v6">1</td>', europe.body)
        self.assertIn('href="/zone/de"', europe.body)  # sub-zones
        uk = c.get("/zone/uk")
        self.assertIn('<td id="zone-v6">1</td>', uk.body)  # alias of gb
        self.assertEqual(c.get("/zone/atlantis").status, 404)
        # The list hides zones without servers unless asked.
        zones = c.get("/zones")
        self.assertIn('href="/zone/de"', zones.body)
        self.assertNotIn('href="/zone/south-america"', zones.body)
        self.assertIn('href="/zones?all=1"', zones.body)
        self.assertIn('href="/zone/south-america"', c.get("/zones?all=1").body)

    def test_api_zones(self):
        c = self.client()
        r = c.get("/api/zones")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertIsNone(r.header("Set-Cookie"))  # the API sets no cookies
        zones = {z["name"]: z for z in r.json()["zones"]}
        self.assertEqual(zones["@"]["active"], {"v4": 2, "v6": 1})
        self.assertEqual(zones["de"]["netspeed"]["v4"], 4500)
        self.assertEqual(zones["de"]["parent"], "europe")
        self.assertEqual(zones["uk"]["alias_of"], "gb")
        z = c.get("/api/zone/europe").json()
        self.assertEqual(z["active"]["v6"], 1)
        self.assertIn("de", [s["name"] for s in z["zones"]])
        self.assertEqual(z["dns_names"][1], "0.europe.pool.test")
        r = c.get("/api/zone/atlantis")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json(), {"error": "no such zone", "status": 404})

    def test_api_server_and_errors(self):
        c = self.client()
        s = c.get("/api/server/198.51.200.1").json()
        self.assertEqual(s["score"], 15)
        self.assertTrue(s["in_dns"])
        self.assertEqual(sorted(s["zones"]), ["@", "de", "europe"])
        self.assertEqual(sorted(m["monitor"] for m in s["monitors"]), ["mon-a", "mon-b"])
        self.assertFalse(c.get("/api/server/198.51.200.3").json()["in_dns"])
        v6 = c.get("/api/server/2a00:1450:4001:0::5")  # any spelling of the address
        self.assertEqual(v6.json()["address"], "2a00:1450:4001::5")
        for path, status in (("/api/server/198.51.200.99", 404), ("/api/server/1.2.3.999", 400),
                             ("/api/server/not-an-address", 400), ("/api/nothing", 404),
                             ("/api/server/198.51.200.1/log?limit=0", 400),
                             ("/api/server/198.51.200.1/log?since=yesterday", 400)):
            with self.subTest(path=path):
                r = c.get(path)
                self.assertEqual(r.status, status)
                self.assertEqual(r.header("Content-Type"), "application/json")
                self.assertEqual(r.json()["status"], status)
                self.assertTrue(r.json()["error"])

    def test_score_page(self):
        r = self.client().get("/scores/198.51.200.1")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body.count("<svg"), 2)
        self.assertIn("<polyline", r.body)
        self.assertIn("mon-a", r.body)
        self.assertIn("mon-b", r.body)
        self.assertIn('<td id="score">15.0</td>', r.body)
        self.assertIn("Recent probes", r.body)
        self.assertEqual(self.client().get("/scores/198.51.200.99").status, 404)
        self.assertEqual(self.client().get("/scores/nonsense").status, 400)

    def test_log_csv_and_json(self):
        c = self.client()
        r = c.get("/scores/198.51.200.1/log")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/csv"))
        rows = list(csv.reader(io.StringIO(r.body)))
        self.assertEqual(rows[0], ["time", "offset", "step", "score", "monitor", "rtt", "leap", "error"])
        self.assertEqual(len(rows), 21)
        self.assertEqual(sum(1 for row in rows[1:] if row[7] == 'timeout, then "nothing"'), 2)
        # Newest first without since.
        times = [row[0] for row in rows[1:]]
        self.assertEqual(times, sorted(times, reverse=True))
        limited = list(csv.reader(io.StringIO(c.get("/scores/198.51.200.1/log?limit=3").body)))
        self.assertEqual(len(limited), 4)
        since = int(time.time()) - 4 * 60 - 30  # the probes 1..4 minutes ago
        j = c.get("/scores/198.51.200.1/log?format=json&since=%d" % since).json()["history"]
        self.assertEqual(len(j), 8)
        self.assertEqual([e["time"] for e in j], sorted(e["time"] for e in j))  # oldest first
        self.assertEqual(set(j[0]), {"time", "ts", "offset", "step", "score", "monitor", "rtt",
                                     "leap", "error"})
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))
        j2 = c.get("/api/server/198.51.200.1/log?since=" + iso).json()["history"]
        self.assertEqual(len(j2), 8)
        only_a = c.get("/api/server/198.51.200.1/log?monitor=mon-a").json()["history"]
        self.assertEqual({e["monitor"] for e in only_a}, {"mon-a"})
        self.assertEqual(len(only_a), 10)
        for q in ("limit=0", "limit=10001", "limit=x", "since=tomorrow", "since=2026-13-45T00:00:00Z",
                  "format=xml"):
            with self.subTest(q=q):
                self.assertEqual(c.get("/scores/198.51.200.1/log?" + q).status, 400)

    def test_unknown_pages_and_methods(self):
        c = self.client()
        self.assertEqual(c.get("/no/such/page").status, 404)
        c.get("/login")
        self.assertEqual(c.post("/zones", {}).status, 405)
        css = c.get("/static/style.css")
        self.assertEqual(css.status, 200)
        self.assertTrue(css.header("Content-Type").startswith("text/css"))


if __name__ == "__main__":
    webtest.main()
