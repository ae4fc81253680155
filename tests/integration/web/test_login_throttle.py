#!/usr/bin/env python3
"""Login throttling: per address (IPv6 by /64) and per account-and-address pair, never per
account alone; the check and the record are one transaction; X-Forwarded-For only from the
configured proxies. Clients come from different loopback addresses (127.0.0.0/8)."""

import concurrent.futures
import os
import tomllib

import webtest

# The production config's proxies (it must set them: behind nginx, without them every client
# is nginx's address): the test runs the site as it is deployed.
with open(os.path.join(webtest.tptest.SRC, "deploy", "timepool.production.toml"), "rb") as f:
    PROXIES = tomllib.load(f)["web"]["trusted_proxies"]


class Throttle(webtest.WebTestCase):
    settings = {"login_max_failures_account": 5, "login_max_failures_address": 20}

    def test_guesses_from_one_address_do_not_lock_out_the_owner(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")
        for i in range(5):
            self.assertEqual(self.client("127.0.0.2").login(email, "wrong %d" % i).status, 401)
        # The guesser's address is refused, even with the right password ...
        r = self.client("127.0.0.2").login(email, "right password")
        self.assertEqual(r.status, 429)
        self.assertIsNotNone(r.header("Retry-After"))
        # ... while the owner, elsewhere, logs in.
        owner = self.client("127.0.0.3")
        self.assertEqual(owner.login(email, "right password").status, 303)
        self.assertEqual(owner.get("/servers").status, 200)

    def test_parallel_guesses_get_no_more_checks_than_the_limit(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")

        def guess(i):
            c = self.client("127.0.0.4")
            c.get("/login")
            return c.post("/login", {"email": email, "password": "wrong guess %d" % i}).status

        with concurrent.futures.ThreadPoolExecutor(30) as ex:
            statuses = list(ex.map(guess, range(30)))
        self.assertEqual(statuses.count(401), 5, statuses)
        self.assertEqual(statuses.count(429), 25, statuses)
        self.assertEqual(self.db.one("SELECT count(*) FROM login_attempts WHERE email = %s "
                                     "AND remote_addr = '127.0.0.4'", email), 5)

    def test_forwarded_for_is_ignored_without_configured_proxies(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")
        for i in range(20):
            c = self.client("127.0.0.6")
            c.get("/login")
            r = c.request("POST", "/login",
                          {"email": self.unique_email(), "password": "x", "csrf": c.last_csrf},
                          {"X-Forwarded-For": "198.51.100.%d" % i})
            self.assertEqual(r.status, 401)
        # Rotating the header did not spread the failures: the peer itself is throttled.
        self.assertEqual(self.client("127.0.0.6").login(email, "right password").status, 429)
        self.assertEqual(self.client("127.0.0.7").login(email, "right password").status, 303)


class BehindProxy(webtest.WebTestCase):
    settings = {"login_max_failures_account": 5, "login_max_failures_address": 20,
                "trusted_proxies": ",".join(PROXIES)}

    def via_proxy(self, client_addr, email, password, forged=None):
        c = self.client(PROXIES[0])
        c.get("/login")
        xff = client_addr if forged is None else forged + ", " + client_addr
        return c.request("POST", "/login", {"email": email, "password": password,
                                            "csrf": c.last_csrf},
                         {"X-Forwarded-For": xff})

    def test_failures_through_the_proxy_do_not_lock_everyone_out(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")
        # 20 failures from one client behind the proxy, each forging another left-hand entry.
        for i in range(20):
            r = self.via_proxy("203.0.113.9", self.unique_email(), "wrong",
                               forged="192.0.2.%d" % i)
            self.assertEqual(r.status, 401)
        self.assertEqual(self.via_proxy("203.0.113.9", email, "right password").status, 429)
        self.assertEqual(self.db.one("SELECT count(*) FROM login_attempts "
                                     "WHERE remote_addr = '203.0.113.9'"), 20)
        # Everyone else behind the proxy still logs in.
        self.assertEqual(self.via_proxy("203.0.113.10", email, "right password").status, 303)

    def test_ipv6_clients_are_throttled_by_slash_64(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")
        for i in range(5):
            r = self.via_proxy("2001:db8:1:2::%x" % (i + 1), email, "wrong")
            self.assertEqual(r.status, 401)
        self.assertEqual(self.via_proxy("2001:db8:1:2:ffff::1", email, "right password").status, 429)
        self.assertEqual(self.via_proxy("2001:db8:1:3::1", email, "right password").status, 303)


class SignupLimit(webtest.WebTestCase):
    settings = {"signup_max_per_day": 3}

    def signup(self, source, email):
        c = self.client(source)
        c.get("/signup")
        return c.post("/signup", {"email": email, "password": "long enough pw",
                                  "role": "volunteer"})

    def test_signups_per_address_are_limited(self):
        for i in range(3):
            self.assertEqual(self.signup("127.0.0.8", self.unique_email()).status, 303)
        before = self.db.snapshot()
        r = self.signup("127.0.0.8", self.unique_email())
        self.assertEqual(r.status, 429)
        self.assertIn("Too many accounts", r.body)
        self.assert_nothing_written(before)
        self.assertEqual(self.signup("127.0.0.9", self.unique_email()).status, 303)

    def test_parallel_signups_do_not_pass_the_limit_together(self):
        with concurrent.futures.ThreadPoolExecutor(10) as ex:
            statuses = list(ex.map(lambda i: self.signup("127.0.0.10", self.unique_email()).status,
                                   range(10)))
        self.assertEqual(statuses.count(303), 3, statuses)
        self.assertEqual(statuses.count(429), 7, statuses)
        self.assertEqual(self.db.one("SELECT count(*) FROM accounts "
                                     "WHERE signup_addr = '127.0.0.10'"), 3)


if __name__ == "__main__":
    webtest.main()
