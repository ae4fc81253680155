#!/usr/bin/env python3
"""Growing login delays: after a few free failures per account-and-address pair and per address
(IPv6 by /64) the next attempt from there waits 1 s, then 2 s, 4 s ... after the latest failure;
the owner elsewhere never waits. Clients come from different loopback addresses (127.0.0.0/8)."""

import concurrent.futures
import os
import time
import tomllib

import webtest

# The login settings exactly as production runs them.
with open(os.path.join(webtest.tptest.SRC, "deploy", "timepool.production.toml"), "rb") as f:
    PRODUCTION = tomllib.load(f)["web"]
LOGIN_KEYS = ("login_window_minutes", "login_max_failures_account", "login_max_failures_address",
              "login_free_failures_account", "login_free_failures_address", "login_delay_seconds")


class GrowingDelays(webtest.WebTestCase):
    settings = {"login_delay_seconds": 1, "login_free_failures_account": 2,
                "login_free_failures_address": 4, "login_max_failures_account": 10,
                "login_max_failures_address": 20}

    def test_delays_grow_per_account_and_address_and_spare_the_owner(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")
        guess = lambda pw: self.client("127.0.0.12").login(email, pw)  # noqa: E731
        self.assertEqual(guess("wrong 1").status, 401)
        self.assertEqual(guess("wrong 2").status, 401)
        r = guess("wrong 3")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("Retry-After"), "1")
        self.assertIn("Wait 1 second ", r.body)
        # A refused attempt is not checked and not counted.
        self.assertEqual(self.db.one("SELECT count(*) FROM login_attempts WHERE email = %s",
                                     email), 2)
        # The owner, from another address, does not wait.
        self.assertEqual(self.client("127.0.0.13").login(email, "right password").status, 303)
        time.sleep(1.1)
        self.assertEqual(guess("wrong 3").status, 401)
        r = guess("wrong 4")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("Retry-After"), "2")
        self.assertIn("Wait 2 seconds ", r.body)
        time.sleep(1.1)
        self.assertEqual(guess("right password").status, 429)  # 1 s was not enough
        time.sleep(1.0)
        # Once the delay has passed, the right password works from there too.
        self.assertEqual(guess("right password").status, 303)

    def test_delays_per_address_over_many_accounts(self):
        c = lambda: self.client("127.0.0.14")  # noqa: E731
        for i in range(4):
            self.assertEqual(c().login(self.unique_email(), "wrong").status, 401)
        r = c().login(self.unique_email(), "wrong")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("Retry-After"), "1")
        # Another address is not slowed down by this one.
        self.assertEqual(self.client("127.0.0.16").login(self.unique_email(), "wrong").status,
                         401)
        time.sleep(1.1)
        self.assertEqual(c().login(self.unique_email(), "wrong").status, 401)
        self.assertEqual(c().login(self.unique_email(), "wrong").header("Retry-After"), "2")


def via_proxy(test, client_addr, email, password):
    """A login through the production config's proxy for the client client_addr."""
    c = test.client(PRODUCTION["trusted_proxies"][0])
    c.get("/login")
    return c.request("POST", "/login", {"email": email, "password": password,
                                        "csrf": c.last_csrf},
                     {"X-Forwarded-For": client_addr})


PRODUCTION_SETTINGS = dict({k: PRODUCTION[k] for k in LOGIN_KEYS},
                           trusted_proxies=",".join(PRODUCTION["trusted_proxies"]))


class ProductionSettings(webtest.WebTestCase):
    """The login limits of deploy/timepool.production.toml, behind its trusted proxy."""
    settings = PRODUCTION_SETTINGS

    def test_production_slows_guesses_down(self):
        self.assertGreater(PRODUCTION["login_delay_seconds"], 0)
        self.assertLess(PRODUCTION["login_free_failures_account"],
                        PRODUCTION["login_max_failures_account"])

    def test_twenty_failures_from_one_address_leave_the_owner_in(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")
        statuses = [via_proxy(self, "203.0.113.7", email, "wrong %d" % i).status
                    for i in range(20)]
        self.assertEqual(set(statuses), {401, 429}, statuses)
        # The owner logs in at once from another address.
        self.assertEqual(via_proxy(self, "198.51.100.20", email, "right password").status, 303)

    def test_ipv6_clients_wait_by_slash_64(self):
        free = PRODUCTION["login_free_failures_address"]
        for i in range(free):
            r = via_proxy(self, "2001:db8:5:6::%x" % (i + 1), self.unique_email(), "wrong")
            self.assertEqual(r.status, 401)
        # Another host of the same /64 waits; the next /64 does not.
        r = via_proxy(self, "2001:db8:5:6:ffff::1", self.unique_email(), "wrong")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("Retry-After"), str(PRODUCTION["login_delay_seconds"]))
        self.assertEqual(via_proxy(self, "2001:db8:5:7::1", self.unique_email(), "wrong").status,
                         401)


class ParallelGuesses(webtest.WebTestCase):
    """Production's limits with a delay long enough that no guess of the run may pass it, so
    exactly the free failures are checked however slowly the guesses arrive."""
    settings = dict(PRODUCTION_SETTINGS, login_delay_seconds=60)

    def test_thirty_parallel_guesses_check_only_the_free_failures(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")
        with concurrent.futures.ThreadPoolExecutor(30) as ex:
            statuses = list(ex.map(
                lambda i: via_proxy(self, "203.0.113.8", email, "wrong guess %d" % i).status,
                range(30)))
        free = PRODUCTION["login_free_failures_account"]
        self.assertEqual(statuses.count(401), free, statuses)
        self.assertEqual(statuses.count(429), 30 - free, statuses)
        self.assertEqual(self.db.one("SELECT count(*) FROM login_attempts WHERE email = %s",
                                     email), free)


if __name__ == "__main__":
    webtest.main()
