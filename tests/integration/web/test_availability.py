#!/usr/bin/env python3
"""The site stays up (issue 14): live checks of servers being added against addresses that never
answer hold no HTTP worker and no database connection; one check per account and a few per
address run at once; static files never wait for a database connection; clients that send a
request one header line every 3 s are cut at the request deadline and do not block anyone."""

import concurrent.futures
import threading
import time

import loadkit
import webtest

LIMIT_MS = 300


def add_fields(address):
    return {"address": address, "netspeed": "1500", "country": "de"}


class Availability(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = loadkit.SilentNtp()
        cls.settings = {"allow_loopback": "true", "probe_port": cls.sink.port,
                        "db_connections": 2, "checks_per_address": 2,
                        "request_deadline_seconds": 5, "max_connections_per_address": 16}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.sink.close()

    def volunteer(self, source=None):
        c = self.client(source)
        c.signup(self.unique_email("vol"))
        c.get("/servers")
        return c

    def test_checks_hold_no_worker_or_database_connection(self):
        vols = [self.volunteer("127.0.4.%d" % (i + 1)) for i in range(4)]
        before = self.db.snapshot()
        results = [None] * len(vols)

        def add(i):
            start = time.monotonic()
            r = vols[i].post("/servers/add", add_fields("127.0.6.%d" % (i + 1)))
            posted = time.monotonic() - start
            results[i] = (posted, r, vols[i].wait_check(r.header("Location") or "/", 30))

        threads = [threading.Thread(target=add, args=(i,)) for i in range(len(vols))]
        for t in threads:
            t.start()
        time.sleep(0.5)
        # Four checks wait for silent addresses (7 s each) on a site with two connections.
        home, _ = loadkit.time_requests(20, self.web.host, self.web.port, "/")
        style, _ = loadkit.time_requests(20, self.web.host, self.web.port, "/static/style.css")
        for t in threads:
            t.join()
        print(loadkit.summary("GET / during 4 checks", home))
        print(loadkit.summary("GET /static/style.css during 4 checks", style))
        self.assertLess(loadkit.percentile(home, 99), LIMIT_MS)
        self.assertLess(loadkit.percentile(style, 99), LIMIT_MS)
        for posted, started, final in results:
            self.assertEqual(started.status, 303, started.body)
            self.assertLess(posted, 1.0)
            self.assertEqual(final.status, 422, final.body)
            self.assertIn("did not answer", final.body)
            self.assertIn('id="probe-error"', final.body)
        self.assert_nothing_written(before)

    def test_check_page_refreshes_and_is_private(self):
        c = self.volunteer("127.0.4.20")
        r = c.post("/servers/add", add_fields("127.0.6.20"))
        self.assertEqual(r.status, 303)
        path = r.header("Location")
        waiting = c.get(path)
        self.assertEqual(waiting.status, 200)
        self.assertIn('id="checking"', waiting.body)
        self.assertEqual(waiting.header("Refresh"), "1")
        self.assertIn('http-equiv="refresh"', waiting.body)
        # Nobody else sees the check, nor a made-up one.
        other = self.volunteer("127.0.4.21")
        self.assertEqual(other.get(path).status, 404)
        self.assertEqual(c.get("/servers/check/" + "0" * 32).status, 404)
        self.assertEqual(c.wait_check(path).status, 422)

    def test_one_check_per_account_and_a_few_per_address(self):
        a = self.volunteer("127.0.4.30")
        self.assertEqual(a.post("/servers/add", add_fields("127.0.6.30")).status, 303)
        r = a.post("/servers/add", add_fields("127.0.6.31"))
        self.assertEqual(r.status, 429, r.body)
        self.assertIn("still running", r.body)
        # From one address: two checks at once (web.checks_per_address), then a clear refusal.
        b, c, d = (self.volunteer("127.0.4.31") for _ in range(3))
        rb = b.post("/servers/add", add_fields("127.0.6.32"))
        self.assertEqual(rb.status, 303)
        self.assertEqual(c.post("/servers/add", add_fields("127.0.6.33")).status, 303)
        r = d.post("/servers/add", add_fields("127.0.6.34"))
        self.assertEqual(r.status, 429, r.body)
        self.assertIn("from your address", r.body)
        # Another address is not affected.
        e = self.volunteer("127.0.4.32")
        self.assertEqual(e.post("/servers/add", add_fields("127.0.6.35")).status, 303)
        # Once a check has ended, the next one may start.
        self.assertEqual(b.wait_check(rb.header("Location")).status, 422)
        self.assertEqual(d.post("/servers/add", add_fields("127.0.6.34")).status, 303)

    def test_static_files_take_no_database_connection(self):
        users = [self.volunteer() for _ in range(2)]
        # Both pooled connections wait for a lock on the sessions table.
        lock = self.db.connect()
        lock.autocommit = False
        cur = lock.cursor()
        cur.execute("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            held = [ex.submit(u.get, "/servers") for u in users]
            time.sleep(0.5)
            try:
                style, statuses = loadkit.time_requests(5, self.web.host, self.web.port,
                                                        "/static/style.css")
            finally:
                lock.rollback()
                lock.close()
            self.assertEqual([h.result().status for h in held], [200, 200])
        print(loadkit.summary("GET /static/style.css with every connection busy", style))
        self.assertEqual(statuses, [200] * 5)
        self.assertLess(max(style), LIMIT_MS)

    def test_slow_clients_are_cut_and_block_nobody(self):
        slow = loadkit.SlowClients(self.web.host, self.web.port, 50,
                                   ["127.0.7.%d" % (i + 1) for i in range(50)], interval=3)
        try:
            time.sleep(1)
            self.assertEqual(slow.connected, 50)
            home, _ = loadkit.time_requests(20, self.web.host, self.web.port, "/")
            style, _ = loadkit.time_requests(20, self.web.host, self.web.port,
                                             "/static/style.css")
            print(loadkit.summary("GET / with 50 slow clients", home))
            print(loadkit.summary("GET /static/style.css with 50 slow clients", style))
            self.assertLess(loadkit.percentile(home, 99), LIMIT_MS)
            self.assertLess(loadkit.percentile(style, 99), LIMIT_MS)
            # The deadline (5 s here) ends every one of them.
            deadline = time.monotonic() + 15
            while not slow.all_closed() and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertTrue(slow.all_closed(), slow.closed_after)
            self.assertLess(max(slow.closed_after), 5 + 3.5, slow.closed_after)
            self.assertGreater(min(slow.closed_after), 4, slow.closed_after)
        finally:
            slow.stop()

    def test_connections_per_address_are_capped(self):
        slow = loadkit.SlowClients(self.web.host, self.web.port, 20, ["127.0.8.1"], interval=3)
        try:
            time.sleep(1.5)
            # web.max_connections_per_address (16): the rest are closed at once.
            cut = [t for t in slow.closed_after if t is not None and t < 1]
            self.assertEqual(len(cut), 4, slow.closed_after)
            self.assertEqual(self.client("127.0.8.2").get("/").status, 200)
        finally:
            slow.stop()


if __name__ == "__main__":
    webtest.main()
