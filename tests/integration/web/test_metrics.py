#!/usr/bin/env python3
"""timepool-web's /metrics: requests by route pattern, method and status code (a 500 from an
unexpected exception included), latency histograms, server checks in flight, waits for a pooled
database connection, the mail outbox. The values move as requests are made and mail is queued."""

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

    def test_mail_outbox_gauges(self):
        """The outbox rows as the gauges the TimepoolMailStuck and TimepoolMailFailing alerts
        read (deploy/prometheus/alerts.yml)."""
        def gauges():
            m = self.web.metrics()
            return {k: m[k] for k in m if k.startswith("timepool_web_mail_outbox_")}
        webtest.tptest.wait_until(lambda: gauges().get("timepool_web_mail_outbox_read_ok") == 1,
                                  20, "the outbox counted")
        self.db.q("DELETE FROM mail_outbox")
        webtest.tptest.wait_until(
            lambda: gauges()["timepool_web_mail_outbox_queued"] == 0, 20, "an empty outbox")
        self.assertEqual(gauges()["timepool_web_mail_outbox_oldest_seconds"], 0)
        add = ("INSERT INTO mail_outbox (recipient, kind, subject, body, created_at, attempts, "
               "sent_at, failed_at) VALUES ('a@example.org', 'verify', 's', 'b', "
               "now() - make_interval(secs => %s), %s, %s, %s)")
        self.db.q(add, 7200, 3, None, None)          # stuck: two hours, three failed tries
        self.db.q(add, 60, 0, None, None)            # fresh
        self.db.q(add, 9000, 1, "2026-01-01", None)  # delivered: not counted
        self.db.q(add, 9000, 5, None, "2026-01-01")  # refused for good
        want = {"timepool_web_mail_outbox_queued": 2, "timepool_web_mail_outbox_retrying": 1,
                "timepool_web_mail_outbox_failed": 1, "timepool_web_mail_outbox_read_ok": 1}
        webtest.tptest.wait_until(
            lambda: all(gauges()[k] == v for k, v in want.items()), 20, "the rows counted")
        oldest = gauges()["timepool_web_mail_outbox_oldest_seconds"]
        self.assertGreaterEqual(oldest, 7200)
        self.assertLess(oldest, 7200 + 120)
        # Delivered: nothing waits any more.
        self.db.q("UPDATE mail_outbox SET sent_at = now() WHERE sent_at IS NULL AND failed_at IS NULL")
        webtest.tptest.wait_until(
            lambda: gauges()["timepool_web_mail_outbox_queued"] == 0 and
            gauges()["timepool_web_mail_outbox_oldest_seconds"] == 0, 20, "the outbox drained")

class UnexpectedException(webtest.WebTestCase):
    """A handler that throws something other than a database error is answered 500 by
    cpp-httplib's exception handler, and counted like any other answer. Provoked for real: a
    site name with a line break (web.site_name is not checked for one) goes into the subject of
    the sign-up's confirmation mail, and enqueue_mail refuses it with std::invalid_argument."""

    settings = {"site_name": "timepool\nBcc: x@example.org"}
    mail = {"verify_email": "true"}

    def test_counted_as_500(self):
        c = self.client()
        c.get("/signup")
        key = route("timepool_web_requests_total", "/signup", "POST", 500)
        before = self.web.metrics().get(key, 0)
        count = 'timepool_web_request_duration_seconds_count{route="/signup"}'
        before_count = self.web.metrics().get(count, 0)
        r = c.post("/signup", {"email": self.unique_email(), "password": "a long password",
                               "role": "volunteer"})
        self.assertEqual(r.status, 500, r.body)
        self.assertEqual(r.body, "Internal error\n")
        after = self.web.metrics()
        self.assertEqual(after.get(key, 0) - before, 1)
        self.assertEqual(after.get(count, 0) - before_count, 1)
        self.assertIn("line break in an address or subject", open(self.web.log_path).read())
        self.assertEqual(self.db.count("mail_outbox"), 0)  # nothing half-done

if __name__ == "__main__":
    webtest.main()
