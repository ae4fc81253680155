#!/usr/bin/env python3
"""timepool-web's /metrics: requests by route pattern, method and status code, latency
histograms, server checks in flight, waits for a pooled database connection. The values move
as requests are made."""

import socket
import threading
import time

import webtest


def route(name, route, method="GET", code=200):
    return '%s{route="%s",method="%s",code="%d"}' % (name, route, method, code)


class Metrics(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        # A UDP socket that takes the server check's packets and never answers, so a check
        # lasts its whole timeout; one pooled connection, so a second request must wait.
        cls.silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.silent.bind(("127.0.0.1", 0))
        cls.settings = {"allow_loopback": "true", "probe_port": cls.silent.getsockname()[1],
                        "db_connections": 1, "threads": 4}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.silent.close()

    def test_requests_and_latency_by_route(self):
        c = self.client()
        before = self.web.metrics()
        for _ in range(3):
            self.assertEqual(c.get("/zones").status, 200)
        self.assertEqual(c.get("/zone/de").status, 200)
        self.assertEqual(c.get("/zone/atlantis").status, 404)
        self.assertEqual(c.get("/no/such/page").status, 404)
        after = self.web.metrics()

        def moved(key):
            return after.get(key, 0) - before.get(key, 0)
        self.assertEqual(moved(route("timepool_web_requests_total", "/zones")), 3)
        self.assertEqual(moved(route("timepool_web_requests_total", "/zone/:zone")), 1)
        self.assertEqual(moved(route("timepool_web_requests_total", "/zone/:zone", code=404)), 1)
        self.assertEqual(moved(route("timepool_web_requests_total", "unmatched", code=404)), 1)
        self.assertEqual(moved('timepool_web_request_duration_seconds_count{route="/zones"}'), 3)
        self.assertEqual(moved('timepool_web_request_duration_seconds_bucket{route="/zones",le="+Inf"}'), 3)
        self.assertGreater(moved('timepool_web_request_duration_seconds_sum{route="/zones"}'), 0)
        # A page that redirects after a POST is counted with its 303.
        key = route("timepool_web_requests_total", "/signup", "POST", 303)
        n = self.web.metrics().get(key, 0)
        c.get("/signup")
        c.post("/signup", {"email": self.unique_email(), "password": "a long password",
                           "role": "volunteer"})
        self.assertEqual(self.web.metrics()[key] - n, 1)

    def test_checks_in_flight_and_pool_waits(self):
        c = self.client()
        c.signup(self.unique_email("vol"))
        c.get("/servers")
        before = self.web.metrics()
        self.assertEqual(before["timepool_web_live_checks_in_flight"], 0)
        self.assertEqual(before["timepool_web_db_pool_size"], 1)
        r = c.post("/servers/add", {"address": "127.0.0.1", "netspeed": "1500", "country": "de"})
        self.assertEqual(r.status, 303)
        # While the check waits for the silent server it is in flight, and it holds no pooled
        # connection (the check runs in the check queue, web/check_queue.hpp).
        webtest.tptest.wait_until(
            lambda: self.web.metrics()["timepool_web_live_checks_in_flight"] == 1, 10,
            "a check in flight")
        self.assertGreaterEqual(self.silent.recv(100) and 1, 1)  # the check's packet arrived
        self.assertEqual(self.web.metrics()["timepool_web_db_pool_in_use"], 0)
        self.assertEqual(c.wait_check(r.header("Location")).status, 422)  # refused
        # A request that holds the one pooled connection (it waits for a lock on sessions)
        # makes another request wait for it.
        lock = self.db.connect()
        lock.autocommit = False
        lock.cursor().execute("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        held = threading.Thread(target=c.get, args=("/servers",))
        held.start()
        webtest.tptest.wait_until(
            lambda: self.web.metrics()["timepool_web_db_pool_in_use"] == 1, 10, "a held connection")
        other = self.client()
        start = time.time()
        threading.Timer(1.0, lock.rollback).start()
        self.assertEqual(other.get("/zones").status, 200)
        waited = time.time() - start
        held.join(30)
        lock.close()
        after = self.web.metrics()
        self.assertEqual(after["timepool_web_live_checks_in_flight"], 0)
        self.assertEqual(after["timepool_web_live_checks_total"] -
                         before["timepool_web_live_checks_total"], 1)
        self.assertGreaterEqual(after["timepool_web_db_pool_waits_total"] -
                                before["timepool_web_db_pool_waits_total"], 1)
        self.assertGreater(after["timepool_web_db_pool_wait_seconds_total"] -
                           before["timepool_web_db_pool_wait_seconds_total"], waited * 0.5)
        self.assertEqual(after["timepool_web_db_pool_waiting"], 0)


if __name__ == "__main__":
    webtest.main()
