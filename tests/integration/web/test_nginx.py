#!/usr/bin/env python3
"""The site through a real nginx (Debian's) with deploy/nginx/timepool-web.conf, as it runs in
production: TLS with a certificate made here, the daemon believing X-Forwarded-For because the
production config's web.trusted_proxies names nginx's address, and the load test of issue 14:
while 20 live checks of silent addresses and 50 slow connections run, another user's GET /
through nginx keeps a p99 under 300 ms, and through the bare daemon static files stay under
300 ms.

nginx runs unprivileged (as www-data when the test runs as root) under a private prefix: its own
config, pid, logs and temp folders in a temp folder, on 127.0.0.1 ports picked here."""

import concurrent.futures
import http.client
import os
import pwd
import math
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import tomllib

import loadkit
import webtest

SRC = webtest.tptest.SRC
with open(os.path.join(SRC, "deploy", "timepool.production.toml"), "rb") as f:
    PRODUCTION = tomllib.load(f)["web"]
SITE_CONF = os.path.join(SRC, "deploy", "nginx", "timepool-web.conf")
LOGIN_KEYS = ("login_window_minutes", "login_max_failures_account", "login_max_failures_address",
              "login_free_failures_account", "login_free_failures_address", "login_delay_seconds")
LIMIT_MS = 300


def site_conf(https_port, http_port, web_port, cert, key):
    """The shipped site config with the test's ports, certificate and upstream."""
    with open(SITE_CONF) as f:
        text = f.read()
    subs = [
        (r"server 127\.0\.0\.1:8080;", "server 127.0.0.1:%d;" % web_port),
        (r"listen 443 ssl;", "listen 127.0.0.1:%d ssl;" % https_port),
        (r"listen \[::\]:443 ssl;\n", ""),
        (r"listen 80;", "listen 127.0.0.1:%d;" % http_port),
        (r"listen \[::\]:80;\n", ""),
        (r"ssl_certificate /\S+;", "ssl_certificate %s;" % cert),
        (r"ssl_certificate_key /\S+;", "ssl_certificate_key %s;" % key),
    ]
    for pattern, repl in subs:
        text, n = re.subn(pattern, repl, text)
        assert n == 1, "deploy/nginx/timepool-web.conf: %s not found once" % pattern
    return text


class Nginx:
    """nginx -p DIR with the site config; as www-data when started by root."""

    def __init__(self, web_port):
        self.dir = tempfile.mkdtemp(prefix="tp-nginx-")
        os.chmod(self.dir, 0o755)
        user = pwd.getpwnam("www-data") if os.geteuid() == 0 else None
        for d in ("logs", "tmp"):
            os.makedirs(os.path.join(self.dir, d))
        cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        if user:
            for p in ("logs", "tmp", "key.pem"):
                os.chown(os.path.join(self.dir, p), user.pw_uid, user.pw_gid)
        self.https_port = webtest.free_port(socket.SOCK_STREAM)
        self.http_port = webtest.free_port(socket.SOCK_STREAM)
        with open(os.path.join(self.dir, "timepool-web.conf"), "w") as f:
            f.write(site_conf(self.https_port, self.http_port, web_port, cert, key))
        temp = "".join("%s_temp_path tmp/%s;\n" % (k, k)
                       for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write("worker_processes 1;\npid logs/nginx.pid;\nerror_log logs/error.log;\n"
                    "events { worker_connections 1024; }\n"
                    "http {\naccess_log logs/access.log;\n%sinclude timepool-web.conf;\n}\n"
                    % temp)
        conf = os.path.join(self.dir, "nginx.conf")
        drop = []
        if user:
            drop = ["setpriv", "--reuid=%d" % user.pw_uid, "--regid=%d" % user.pw_gid,
                    "--clear-groups", "--"]
        cmd = drop + ["nginx", "-p", self.dir, "-c", conf, "-e", "logs/error.log"]
        t = subprocess.run(cmd + ["-t"], capture_output=True, text=True)
        if t.returncode != 0:
            raise RuntimeError("nginx -t: " + t.stderr)
        self.log = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen(cmd + ["-g", "daemon off;"], stdout=self.log,
                                     stderr=self.log)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("nginx did not start: " + self.error_log())
                time.sleep(0.05)

    def error_log(self):
        with open(os.path.join(self.dir, "logs", "error.log")) as f:
            return f.read()

    def access_statuses(self):
        """The status of every request in the access log (combined format)."""
        with open(os.path.join(self.dir, "logs", "access.log")) as f:
            return [int(m.group(1)) for m in re.finditer(r'" (\d{3}) ', f.read())]

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class HttpsClient(webtest.Client):
    """webtest.Client over nginx's TLS port."""

    def __init__(self, nginx, source=None):
        super().__init__(None, source)
        self.nginx = nginx

    def connection(self):
        return http.client.HTTPSConnection("127.0.0.1", self.nginx.https_port, timeout=60,
                                           context=loadkit.tls_context(),
                                           source_address=(self.source, 0) if self.source
                                           else None)


class BehindNginx(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = loadkit.SilentNtp()
        # As production runs: its proxies and login limits, Secure cookies.
        cls.settings = dict({k: PRODUCTION[k] for k in LOGIN_KEYS},
                            allow_loopback="true", probe_port=cls.sink.port,
                            trusted_proxies=",".join(PRODUCTION["trusted_proxies"]),
                            signup_max_per_day=PRODUCTION["signup_max_per_day"],
                            secure_cookies="true", max_connections_per_address=16)
        super().setUpClass()
        try:
            cls.nginx = Nginx(cls.web.port)
        except Exception:
            super().tearDownClass()
            cls.sink.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        super().tearDownClass()
        cls.sink.close()

    def https(self, source=None):
        return HttpsClient(self.nginx, source)

    def test_nginx_runs_unprivileged(self):
        if os.geteuid() != 0:
            self.skipTest("started without root: nginx runs as this user")
        with open("/proc/%d/status" % self.nginx.proc.pid) as f:
            uid = re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)
        self.assertEqual(int(uid), pwd.getpwnam("www-data").pw_uid)

    def test_the_daemon_sees_the_client_nginx_saw(self):
        c = self.https("127.0.5.77")
        r = c.get("/login")
        self.assertEqual(r.status, 200)
        self.assertIn("max-age=31536000", r.header("Strict-Transport-Security") or "")
        email = self.unique_email()
        r = c.request("POST", "/login", {"email": email, "password": "wrong password",
                                         "csrf": c.last_csrf},
                      {"X-Forwarded-For": "198.51.100.1"})
        self.assertEqual(r.status, 401, r.body)
        # Not nginx's 127.0.0.1, not the forged entry: the client's own address.
        self.assertEqual(self.db.q("SELECT host(remote_addr) FROM login_attempts "
                                   "WHERE email = %s", email), [("127.0.5.77",)])
        for k, v in r.headers:
            if k.lower() == "set-cookie":
                self.assertIn("Secure", v)

    def test_guesses_through_nginx_leave_the_owner_in(self):
        email = self.unique_email()
        self.https("127.0.5.80").signup(email, password="right password")

        def guess(i):
            c = self.https("127.0.5.81")
            c.get("/login")
            return c.post("/login", {"email": email, "password": "wrong %d" % i}).status

        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            statuses = list(ex.map(guess, range(20)))
        took = time.monotonic() - start
        self.assertEqual(set(statuses), {401, 429}, statuses)
        # Checked: the free failures, then one more each time a delay (1 s, 2 s, 4 s ...) has
        # passed within the run; the rest were refused by the daemon's delay or nginx's limit.
        delay = PRODUCTION["login_delay_seconds"]
        allowed = PRODUCTION["login_free_failures_account"] + int(math.log2(took / delay + 1))
        self.assertLessEqual(statuses.count(401), allowed, (took, statuses))
        self.assertEqual(self.db.one("SELECT count(DISTINCT remote_addr) FROM login_attempts "
                                     "WHERE email = %s AND NOT success", email), 1)
        # The owner, from another address behind the same nginx, logs in at once.
        owner = self.https("127.0.5.82")
        self.assertEqual(owner.login(email, "right password").status, 303)
        self.assertEqual(owner.get("/servers").status, 200)

    def test_signups_are_limited_per_client_not_for_everyone_behind_nginx(self):
        limit = PRODUCTION["signup_max_per_day"]
        for i in range(limit):
            self.https("127.0.5.120").signup(self.unique_email("many"))
        c = self.https("127.0.5.120")
        c.get("/signup")
        r = c.post("/signup", {"email": self.unique_email("many"), "password": "long enough pw",
                               "role": "volunteer"})
        self.assertEqual(r.status, 429)
        self.assertIn("Too many accounts", r.body)
        self.https("127.0.5.121").signup(self.unique_email("other"))

    def test_plain_http_goes_to_https(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.nginx.http_port, timeout=10)
        conn.request("GET", "/servers")
        r = conn.getresponse()
        conn.close()
        self.assertEqual(r.status, 301)
        self.assertTrue(r.getheader("Location").startswith("https://"))

    def test_nginx_refuses_a_body_too_large_for_the_daemon(self):
        c = self.https("127.0.5.90")
        c.get("/login")
        r = c.post("/login", {"email": "x@example.org", "password": "p" * (70 * 1024)})
        # nginx's own page (server_tokens off: no version), before the daemon reads anything.
        self.assertEqual(r.status, 413)
        self.assertIn("<center>nginx</center>", r.body)

    def test_slow_clients_are_dropped_by_nginx(self):
        slow = loadkit.SlowClients("127.0.0.1", self.nginx.https_port, 5,
                                   ["127.0.9.%d" % (i + 1) for i in range(5)], interval=1,
                                   tls=True)
        try:
            deadline = time.monotonic() + 15
            while not slow.all_closed() and time.monotonic() < deadline:
                time.sleep(0.2)
            # client_header_timeout 5s: a whole header, however it trickles.
            self.assertTrue(slow.all_closed(), slow.closed_after)
            self.assertLess(max(slow.closed_after), 8, slow.closed_after)
        finally:
            slow.stop()

    def open_slow_request(self, source):
        """A TLS connection with a whole request header and the first byte of its 1000-byte
        body: nginx counts it against limit_conn while it waits for the rest (a GET, so that
        nginx's limit on form posts does not answer it first)."""
        s = socket.create_connection(("127.0.0.1", self.nginx.https_port), timeout=10,
                                     source_address=(source, 0))
        s = loadkit.tls_context().wrap_socket(s, server_hostname="localhost")
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\ne")
        return s

    def test_connections_per_client_are_limited(self):
        # limit_conn 20 per client address: with 20 requests of one client in progress, its
        # next ones get 429 from nginx; another client is served.
        held = [self.open_slow_request("127.0.9.50") for _ in range(20)]
        try:
            time.sleep(0.5)
            extra = [self.https("127.0.9.50").get("/").status for _ in range(3)]
            self.assertEqual(extra, [429] * 3)
            self.assertEqual(self.https("127.0.9.51").get("/").status, 200)
        finally:
            for s in held:
                s.close()
        time.sleep(0.2)
        self.assertEqual(self.https("127.0.9.50").get("/").status, 200)

    def test_load(self):
        """The issue's load test; the figures are printed for the record."""
        # 20 volunteers, each from an address of their own, start a check of a silent address
        # through nginx and follow its page as a browser does (a reload a second).
        vols = []
        for i in range(20):
            v = self.https("127.0.5.%d" % (i + 1))
            v.signup(self.unique_email("load"))
            v.get("/servers")
            vols.append(v)
        user = self.https("127.0.5.100")
        user.signup(self.unique_email("user"))
        user_cookie = "; ".join("%s=%s" % kv for kv in user.cookies.items())
        finals = [None] * len(vols)

        def check(i):
            r = vols[i].post("/servers/add", {"address": "127.0.6.%d" % (i + 1),
                                              "netspeed": "1500", "country": "de"})
            if r.status != 303:
                finals[i] = r
                return
            path, deadline = r.header("Location"), time.monotonic() + 60
            while True:
                r = vols[i].get(path)
                if 'id="checking"' not in r.body or time.monotonic() > deadline:
                    finals[i] = r
                    return
                time.sleep(1)

        # 50 slow connections on each door, opened again whenever one is cut: they last as
        # long as the timing does.
        slow_nginx = loadkit.SlowClients("127.0.0.1", self.nginx.https_port, 50,
                                         ["127.0.2.%d" % (i + 1) for i in range(50)], tls=True,
                                         reconnect=True)
        slow_bare = loadkit.SlowClients(self.web.host, self.web.port, 50,
                                        ["127.0.3.%d" % (i + 1) for i in range(50)],
                                        reconnect=True)
        threads = [threading.Thread(target=check, args=(i,)) for i in range(len(vols))]
        try:
            for t in threads:
                t.start()
            time.sleep(1)
            slow_connected = (slow_nginx.connected, slow_bare.connected)
            home, home_status = loadkit.time_requests(
                100, "127.0.0.1", self.nginx.https_port, "/", source="127.0.5.100", tls=True,
                headers={"Cookie": user_cookie})
            style, style_status = loadkit.time_requests(
                100, self.web.host, self.web.port, "/static/style.css", source="127.0.5.101",
                pause=0.02)
            bare_home, bare_status = loadkit.time_requests(
                50, self.web.host, self.web.port, "/", source="127.0.5.102", pause=0.02)
            running = sum(1 for f in finals if f is None)
        finally:
            for t in threads:
                t.join()
            slow_nginx.stop()
            slow_bare.stop()
        print(loadkit.summary("GET / through nginx (logged in)", home))
        print(loadkit.summary("GET /static/style.css on the bare daemon", style))
        print(loadkit.summary("GET / on the bare daemon", bare_home))
        print("slow connections: %d through nginx, %d on the daemon (reopened %d and %d times); "
              "checks still running when the timing ended: %d of 20"
              % (slow_connected[0], slow_connected[1], slow_nginx.reconnects,
                 slow_bare.reconnects, running))
        self.assertEqual(slow_connected, (50, 50))
        self.assertEqual(set(home_status), {200})
        self.assertEqual(set(style_status), {200})
        self.assertEqual(set(bare_status), {200})
        self.assertGreater(running, 0)
        self.assertLess(loadkit.percentile(home, 99), LIMIT_MS)
        self.assertLess(loadkit.percentile(style, 99), LIMIT_MS)
        for f in finals:
            self.assertEqual(f.status, 422, f.body[:300])
            self.assertIn("did not answer", f.body)


if __name__ == "__main__":
    webtest.main()
