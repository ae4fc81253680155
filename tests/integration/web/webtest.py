"""Helpers for the web integration tests: a fresh database per test class (migrated with
timepoolctl), the real timepool-web binary on an ephemeral port, an HTTP client that keeps
cookies and reads CSRF tokens out of forms, and a chronyd serving time on a loopback port.

The ctest fixture "pg" provides PGHOST/PGPORT/PGUSER, TIMEPOOL_BINARY_DIR and
TIMEPOOL_SOURCE_DIR (tests/CMakeLists.txt)."""

import email
import email.policy
import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import tptest  # noqa: E402
from tptest import BIN, CTL, WEB, Chronyd, free_port  # noqa: E402,F401


class TestDatabase(tptest.Database):
    def __init__(self):
        super().__init__("tp_web_")

    def count(self, table):
        return self.one("SELECT count(*) FROM " + table)

    def snapshot(self):
        """Row counts of every table a form writes: a refused form must leave them alone."""
        return {t: self.count(t) for t in
                ("accounts", "sessions", "servers", "server_zones", "vendor_zones", "zones")}

    def create_admin(self, email, password):
        r = self.ctl("create-admin", email, "--password-stdin", stdin=password + "\n")
        if r.returncode != 0:
            raise RuntimeError("create-admin failed: " + r.stdout + r.stderr)

    def wait_findings(self, timeout=60):
        """Waits until the web's findings job has completed two runs from now: the first may
        have read the counts before the caller wrote them. Needs a short
        web.findings_interval_seconds."""
        start = self.one("SELECT coalesce((SELECT runs FROM zone_findings_runs), 0)")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.one("SELECT coalesce((SELECT runs FROM zone_findings_runs), 0)") >= start + 2:
                return
            time.sleep(0.1)
        raise RuntimeError("the findings job did not run twice in %d s" % timeout)


class WebServer(tptest.Daemon):
    def __init__(self, db, settings=None, mail=None, dns=None):
        args = [WEB, "--set", "database.conninfo=" + db.conninfo(), "--set", "web.port=0",
                "--set", "web.pool_domain=pool.test"]
        # Test classes sign up many accounts and open many connections from one address, and
        # fail logins from it; test_signup_limit, test_availability and test_login_delays set
        # their own limits.
        # /metrics on a free port (the default 127.0.0.1:9127 would collide between tests).
        # Plain http on loopback: no Secure cookies (SecureCookies tests turn them on).
        settings = dict({"signup_max_per_day": 100000, "max_connections_per_address": 1000,
                         "login_delay_seconds": 0, "metrics_listen": "127.0.0.1:0",
                         "secure_cookies": "false"},
                        **(settings or {}))
        for k, v in settings.items():
            args += ["--set", "web.%s=%s" % (k, v)]
        # Without a relay: mail stays in the outbox and sign-ups count as verified, unless the
        # test class (test_mail) sets [mail] itself.
        mail = dict({"transport": "off", "verify_email": "false"}, **(mail or {}))
        for k, v in mail.items():
            args += ["--set", "mail.%s=%s" % (k, v)]
        # [dns] keys the web reads too (geo_min_servers, balancer_factor, balancer_window).
        for k, v in (dns or {}).items():
            args += ["--set", "dns.%s=%s" % (k, v)]
        ready = [r"listening on ([0-9.]+):(\d+)"]
        if settings["metrics_listen"]:
            ready.append(r"metrics on http://[0-9.]+:(\d+)/metrics")
        super().__init__("web", args, ready=ready, expect_code=None)
        self.host, self.port = self.ready_match[0].group(1), int(self.ready_match[0].group(2))
        self.metrics_port = int(self.ready_match[1].group(1)) if settings["metrics_listen"] else None

    def metrics(self):
        """The /metrics page as {sample name with labels: value}."""
        return tptest.read_metrics(self.metrics_port)

    def stop(self, timeout=15):
        """Stops it, removes its folder and returns its exit code (tearDownClass checks it)."""
        try:
            return super().stop(timeout)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class SmtpSink(tptest.Daemon):
    """A real SMTP server (tests/support/smtp_sink.py, aiosmtpd) storing what it accepts in
    self.box; tls=True offers and requires STARTTLS with a self-signed certificate
    (self.cert), user/password require AUTH. stop() and start() again on the same port make
    the relay go down and come back."""

    def __init__(self, tls=False, user=None, password=None, port=None):
        self.port = port or free_port(socket.SOCK_STREAM)
        folder = tempfile.mkdtemp(prefix="tp-smtp-")
        self.box = os.path.join(folder, "box")
        self.cert = None
        args = ["/usr/bin/python3", os.path.join(tptest.SRC, "tests", "support",
                                                 "smtp_sink.py"),
                "--port", str(self.port), "--dir", self.box]
        if tls:
            self.cert = os.path.join(folder, "cert.pem")
            key = os.path.join(folder, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", self.cert, "-days", "2", "-subj",
                            "/CN=localhost", "-addext",
                            "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           check=True, capture_output=True)
            args += ["--tls-cert", self.cert, "--tls-key", key]
        if user:
            args += ["--user", user, "--password", password]
        super().__init__("smtp", args, ready=[r"ready"], workdir=folder)

    def start(self):
        super().start()
        # The port may lag the "ready" line by a moment.
        def listening():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0
        tptest.wait_until(listening, 10, "smtp sink listening")

    def messages(self):
        """[(envelope recipients, email.message.Message)] in arrival order."""
        out = []
        if not os.path.isdir(self.box):
            return out
        for name in sorted(os.listdir(self.box)):
            if not name.endswith(".eml"):
                continue
            with open(os.path.join(self.box, name), "rb") as f:
                msg = email.message_from_bytes(f.read(), policy=email.policy.default)
            with open(os.path.join(self.box, name[:-4] + ".env")) as f:
                rcpts = f.read().split("\n")[1:-1]
            out.append((rcpts, msg))
        return out

    def wait_messages(self, n, timeout=60):
        tptest.wait_until(lambda: len(self.messages()) >= n, timeout, "%d messages" % n)
        return self.messages()

    def close(self):
        code = self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return code


def body_of(msg):
    return msg.get_content()


def link_in(msg, path):
    """The first link in the message's text that starts with the site and `path`."""
    m = re.search(r"(https?://[^\s]+%s[^\s]*)" % re.escape(path), body_of(msg))
    return m.group(1) if m else None


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def csrf(self):
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', self.body)
        return m.group(1) if m else None

    def json(self):
        import json
        return json.loads(self.body)


class Client:
    """One browser: cookies persist, redirects are not followed (tests check them)."""

    def __init__(self, web, source=None):
        """source: the local address the requests come from (any of 127.0.0.0/8)."""
        self.web = web
        self.source = source
        self.cookies = {}
        self.last_csrf = None

    def connection(self):
        """The connection one request goes over (HttpsClient of test_nginx: TLS to nginx)."""
        return http.client.HTTPConnection(self.web.host, self.web.port, timeout=60,
                                          source_address=(self.source, 0) if self.source else None)

    def request(self, method, path, fields=None, headers=None):
        conn = self.connection()
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read().decode("utf-8")
        hdrs = r.getheaders()
        conn.close()
        for k, v in hdrs:
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";")[0]
                if "Max-Age=0" in v:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        reply = Reply(r.status, hdrs, data)
        if reply.csrf():
            self.last_csrf = reply.csrf()
        return reply

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields, csrf=True):
        """Posts a form with the CSRF token of the last page seen (csrf=False: none; a string:
        that token)."""
        f = dict(fields)
        if csrf is True:
            if self.last_csrf is None:
                self.get("/")
            f["csrf"] = self.last_csrf
        elif isinstance(csrf, str):
            f["csrf"] = csrf
        return self.request("POST", path, f)

    def add_server(self, fields, timeout=30):
        """Posts the add-server form and follows its check page until the check has ended:
        the final page (or the refusal that came before any check)."""
        r = self.post("/servers/add", fields)
        if r.status != 303 or not (r.header("Location") or "").startswith("/servers/check/"):
            return r
        return self.wait_check(r.header("Location"), timeout)

    def wait_check(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            r = self.get(path)
            if 'id="checking"' not in r.body or time.time() > deadline:
                return r
            time.sleep(0.2)

    def signup(self, email, role="volunteer", password="correct horse battery"):
        self.get("/signup")
        r = self.post("/signup", {"email": email, "password": password, "role": role})
        assert r.status == 303, (r.status, r.body)
        return r

    def login(self, email, password):
        self.get("/login")
        return self.post("/login", {"email": email, "password": password})


class WebTestCase(unittest.TestCase):
    """A database and a timepool-web for the whole class; `settings` are --set web.* values,
    `dns` --set dns.* values."""

    settings = {}
    mail = {}
    dns = {}

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        try:
            cls.web = WebServer(cls.db, cls.settings, cls.mail, cls.dns)
        except Exception:
            cls.db.close()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.web.stop()
        cls.db.close()
        assert rc == 0, "timepool-web exited with %s" % rc

    def client(self, source=None):
        return Client(self.web, source)

    def unique_email(self, prefix="user"):
        return "%s-%s@example.org" % (prefix, secrets.token_hex(4))

    def assert_nothing_written(self, before):
        self.assertEqual(self.db.snapshot(), before)


def main():
    unittest.main(verbosity=2)
