#!/usr/bin/env python3
"""Sign-up, login (with rate limits), logout, password change, CSRF on the account forms."""

import hashlib

import webtest


class Accounts(webtest.WebTestCase):
    def test_signup_creates_account_and_session(self):
        c = self.client()
        email = self.unique_email()
        r = c.signup(email.upper())  # stored lower-case
        self.assertEqual(r.header("Location"), "/servers")
        cookie = r.header("Set-Cookie")
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Lax", cookie)
        self.assertNotIn("Secure", cookie)
        token = c.cookies["tp_session"]
        row = self.db.q("SELECT password_hash, role FROM accounts WHERE email = %s", email)
        self.assertEqual(len(row), 1)
        self.assertTrue(row[0][0].startswith("$argon2id$"))
        self.assertEqual(row[0][1], "volunteer")
        # Only the token's hash is stored.
        stored = self.db.q("SELECT token_hash FROM sessions s JOIN accounts a ON a.id = s.account_id "
                           "WHERE a.email = %s", email)
        self.assertEqual(stored, [(hashlib.sha256(token.encode()).hexdigest(),)])
        self.assertEqual(self.db.one("SELECT count(*) FROM sessions WHERE token_hash = %s", token), 0)
        page = c.get("/servers")
        self.assertEqual(page.status, 200)
        self.assertIn(email, page.body)

    def test_vendor_signup_goes_to_vendor_page(self):
        c = self.client()
        r = c.signup(self.unique_email("vendor"), role="vendor")
        self.assertEqual(r.header("Location"), "/vendor")
        self.assertEqual(c.get("/vendor").status, 200)

    def test_signup_refusals_write_nothing(self):
        taken = self.unique_email()
        self.client().signup(taken)
        cases = [
            ({"email": "not-an-email", "password": "long enough pw", "role": "volunteer"}, 400),
            ({"email": self.unique_email(), "password": "short", "role": "volunteer"}, 400),
            ({"email": self.unique_email(), "password": "long enough pw", "role": "admin"}, 400),
            ({"email": taken.upper(), "password": "long enough pw", "role": "volunteer"}, 409),
        ]
        for fields, status in cases:
            with self.subTest(fields=fields):
                c = self.client()
                c.get("/signup")
                before = self.db.snapshot()
                r = c.post("/signup", fields)
                self.assertEqual(r.status, status, r.body)
                self.assertIn('class="error"', r.body)
                self.assert_nothing_written(before)

    def test_forms_without_or_with_wrong_csrf_are_refused(self):
        c = self.client()
        c.get("/signup")
        before = self.db.snapshot()
        fields = {"email": self.unique_email(), "password": "long enough pw", "role": "volunteer"}
        self.assertEqual(c.post("/signup", fields, csrf=False).status, 403)
        self.assertEqual(c.post("/signup", fields, csrf="0" * 64).status, 403)
        # A token without the matching cookie (another browser's) is refused too.
        other = self.client()
        other.last_csrf = c.last_csrf
        self.assertEqual(other.post("/signup", fields).status, 403)
        self.assert_nothing_written(before)
        # Logged in: the session's token is required.
        email = self.unique_email()
        c.signup(email)
        before = self.db.snapshot()
        self.assertEqual(c.post("/logout", {}, csrf=False).status, 403)
        self.assertEqual(c.post("/logout", {}, csrf="ab" * 32).status, 403)
        self.assert_nothing_written(before)

    def test_login_logout(self):
        email = self.unique_email()
        self.client().signup(email, password="my password 1")
        c = self.client()
        r = c.login(email, "my password 1")
        self.assertEqual(r.status, 303)
        self.assertIn("tp_session", c.cookies)
        self.assertEqual(c.get("/servers").status, 200)
        token = c.cookies["tp_session"]
        r = c.post("/logout", {})
        self.assertEqual(r.status, 303)
        self.assertNotIn("tp_session", c.cookies)
        h = hashlib.sha256(token.encode()).hexdigest()
        self.assertEqual(self.db.one("SELECT count(*) FROM sessions WHERE token_hash = %s", h), 0)
        self.assertEqual(c.get("/servers").status, 303)  # to /login
        # The old cookie no longer opens anything.
        c.cookies["tp_session"] = token
        self.assertEqual(c.get("/servers").status, 303)

    def test_wrong_password_is_refused_and_recorded(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")
        c = self.client()
        r = c.login(email, "wrong password")
        self.assertEqual(r.status, 401)
        self.assertNotIn("tp_session", c.cookies)
        self.assertEqual(self.db.one("SELECT count(*) FROM login_attempts WHERE email = %s "
                                     "AND NOT success", email), 1)
        r = c.login("nobody-" + email, "whatever pw")
        self.assertEqual(r.status, 401)

    def test_rate_limit_per_account(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")
        for i in range(5):
            self.assertEqual(self.client().login(email, "wrong %d" % i).status, 401)
        # Even the right password is refused now from this address (others: test_login_throttle).
        c = self.client()
        r = c.login(email, "right password")
        self.assertEqual(r.status, 429)
        self.assertIsNotNone(r.header("Retry-After"))
        self.assertNotIn("tp_session", c.cookies)

    def test_change_password(self):
        email = self.unique_email()
        a = self.client()
        a.signup(email, password="first password")
        b = self.client()
        self.assertEqual(b.login(email, "first password").status, 303)
        a.get("/account")
        self.assertEqual(a.post("/account/password", {"current": "wrong", "password": "second password"}).status, 400)
        a.get("/account")
        self.assertEqual(a.post("/account/password", {"current": "first password", "password": "short"}).status, 400)
        a.get("/account")
        r = a.post("/account/password", {"current": "first password", "password": "second password"})
        self.assertEqual(r.status, 303)
        self.assertEqual(a.get("/servers").status, 200)   # this session stays
        self.assertEqual(b.get("/servers").status, 303)   # the other one ended
        self.assertEqual(self.client().login(email, "first password").status, 401)
        self.assertEqual(self.client().login(email, "second password").status, 303)


class AddressRateLimit(webtest.WebTestCase):
    settings = {"login_max_failures_address": 3, "login_max_failures_account": 100}

    def test_rate_limit_per_address(self):
        email = self.unique_email()
        self.client().signup(email, password="right password")
        for i in range(3):
            self.assertEqual(self.client().login(self.unique_email(), "wrong pw %d" % i).status, 401)
        self.assertEqual(self.client().login(email, "right password").status, 429)


class SecureCookies(webtest.WebTestCase):
    settings = {"secure_cookies": "true"}

    def test_cookies_are_secure(self):
        c = self.client()
        r = c.get("/signup")
        self.assertIn("Secure", r.header("Set-Cookie"))
        r = c.post("/signup", {"email": self.unique_email(), "password": "long enough pw",
                               "role": "volunteer"})
        self.assertEqual(r.status, 303)
        self.assertIn("Secure", r.header("Set-Cookie"))
        self.assertTrue(r.header("Set-Cookie").startswith("__Host-"), r.header("Set-Cookie"))
        self.assertTrue(c.cookies and all(n.startswith("__Host-") for n in c.cookies), c.cookies)
        # The session works under its prefixed name...
        self.assertEqual(c.get("/account").status, 200)
        # ...and the same value under the bare name (as plain http or a sibling domain could
        # plant it) counts for nothing.
        bare = webtest.Client(self.web)
        bare.cookies = {n[len("__Host-"):]: v for n, v in c.cookies.items()}
        self.assertNotEqual(bare.get("/account").status, 200)


class PlainHttpCookies(webtest.WebTestCase):
    # The harness default, as the local config sets it: no Secure flag, no prefix.
    def test_cookies_are_plain(self):
        r = self.client().get("/signup")
        self.assertNotIn("Secure", r.header("Set-Cookie"))
        self.assertFalse(r.header("Set-Cookie").startswith("__Host-"))


if __name__ == "__main__":
    webtest.main()
