"""Helpers for the web integration tests: a fresh database per test class (migrated with
timepoolctl), the real timepool-web binary on an ephemeral port, an HTTP client that keeps
cookies and reads CSRF tokens out of forms, and a chronyd serving time on a loopback port.

The ctest fixture "pg" provides PGHOST/PGPORT/PGUSER, TIMEPOOL_BINARY_DIR and
TIMEPOOL_SOURCE_DIR (tests/CMakeLists.txt)."""

import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import psycopg2

BIN = os.environ.get("TIMEPOOL_BINARY_DIR", "")
WEB = os.path.join(BIN, "web", "timepool-web")
CTL = os.path.join(BIN, "ctl", "timepoolctl")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestDatabase:
    def __init__(self):
        self.name = "tp_web_" + secrets.token_hex(6)
        subprocess.run(["createdb", self.name], check=True)
        subprocess.run([CTL, "--set", "database.conninfo=dbname=" + self.name, "migrate"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.conn = psycopg2.connect(dbname=self.name)
        self.conn.autocommit = True

    def q(self, sql, *args):
        with self.conn.cursor() as c:
            c.execute(sql, args)
            return c.fetchall() if c.description else None

    def one(self, sql, *args):
        rows = self.q(sql, *args)
        return rows[0][0] if rows else None

    def count(self, table):
        return self.one("SELECT count(*) FROM " + table)

    def snapshot(self):
        """Row counts of every table a form writes: a refused form must leave them alone."""
        return {t: self.count(t) for t in
                ("accounts", "sessions", "servers", "server_zones", "vendor_zones", "zones")}

    def create_admin(self, email, password):
        subprocess.run([CTL, "--set", "database.conninfo=dbname=" + self.name, "create-admin",
                        email, "--password-stdin"], input=password + "\n", text=True,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def close(self):
        self.conn.close()
        subprocess.run(["dropdb", "--force", self.name], check=False)


class WebServer:
    def __init__(self, db, settings=None):
        args = [WEB, "--set", "database.conninfo=dbname=" + db.name, "--set", "web.port=0",
                "--set", "web.pool_domain=pool.test"]
        for k, v in (settings or {}).items():
            args += ["--set", "web.%s=%s" % (k, v)]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on ([0-9.]+):(\d+)", line)
        if not m:
            self.proc.kill()
            self.log.seek(0)
            raise RuntimeError("timepool-web did not start: %r %s" % (line, self.log.read()))
        self.host, self.port = m.group(1), int(m.group(2))

    def stop(self):
        self.proc.terminate()
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        return rc


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

    def __init__(self, web, remote=None):
        self.web = web
        self.cookies = {}
        self.last_csrf = None

    def request(self, method, path, fields=None, headers=None):
        conn = http.client.HTTPConnection(self.web.host, self.web.port, timeout=60)
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

    def signup(self, email, role="volunteer", password="correct horse battery"):
        self.get("/signup")
        r = self.post("/signup", {"email": email, "password": password, "role": role})
        assert r.status == 303, (r.status, r.body)
        return r

    def login(self, email, password):
        self.get("/login")
        return self.post("/login", {"email": email, "password": password})


class Chronyd:
    """A chronyd that serves stratum 2 from its local clock on 127.0.0.1:<port>; never touches
    the system clock (-x)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tp-web-chrony-")
        os.chmod(self.dir, 0o755)
        sock = os.path.join(self.dir, "sock")
        os.mkdir(sock)
        shutil.chown(sock, "_chrony", "_chrony")
        os.chmod(sock, 0o770)
        self.port = free_udp_port()
        conf = os.path.join(self.dir, "chrony.conf")
        with open(conf, "w") as f:
            f.write("port %d\nbindaddress 127.0.0.1\nallow 127.0.0.0/8\nlocal stratum 2\n"
                    "cmdport 0\nbindcmdaddress %s/chronyd.sock\npidfile %s/chronyd.pid\n"
                    % (self.port, sock, self.dir))
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(["chronyd", "-x", "-d", "-4", "-f", conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        # Ready once it answers an NTP client packet.
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.answers():
                return
            time.sleep(0.1)
        raise RuntimeError("chronyd did not start")

    def answers(self):
        pkt = bytes([0x23]) + bytes(47)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            s.sendto(pkt, ("127.0.0.1", self.port))
            try:
                data, _ = s.recvfrom(512)
                return len(data) >= 48 and data[1] != 0
            except socket.timeout:
                return False

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class WebTestCase(unittest.TestCase):
    """A database and a timepool-web for the whole class; `settings` are --set web.* values."""

    settings = {}

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        try:
            cls.web = WebServer(cls.db, cls.settings)
        except Exception:
            cls.db.close()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.web.stop()
        cls.db.close()
        assert rc == 0, "timepool-web exited with %s" % rc

    def client(self):
        return Client(self.web)

    def unique_email(self, prefix="user"):
        return "%s-%s@example.org" % (prefix, secrets.token_hex(4))

    def assert_nothing_written(self, before):
        self.assertEqual(self.db.snapshot(), before)


def main():
    unittest.main(verbosity=2)
