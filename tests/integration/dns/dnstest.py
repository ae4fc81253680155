"""Helpers for the timepool-dns integration tests: a fresh migrated database, servers and
zones written with SQL, and timepool-dns started on an ephemeral loopback port.

Environment (set by ctest, see tests/CMakeLists.txt): PGHOST/PGPORT/PGUSER of the shared test
cluster, TIMEPOOL_SOURCE_DIR and TIMEPOOL_BINARY_DIR.
"""
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import psycopg2

BIN = os.environ.get("TIMEPOOL_BINARY_DIR", "build")
SRC = os.environ.get("TIMEPOOL_SOURCE_DIR", ".")
DNS_BIN = os.path.join(BIN, "server", "timepool-dns")
CTL_BIN = os.path.join(BIN, "ctl", "timepoolctl")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg)


class Database:
    """CREATE DATABASE tp_dns_<random>, migrated with timepoolctl; dropped by close()."""

    def __init__(self, env=None):
        self.env = dict(os.environ if env is None else env)
        self.name = "tp_dns_" + secrets.token_hex(5)
        subprocess.run(["createdb", self.name], check=True, env=self.env)
        subprocess.run([CTL_BIN, "--set", "database.conninfo=" + self.conninfo(), "migrate"],
                       check=True, env=self.env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.conn = psycopg2.connect(self.conninfo())
        self.conn.autocommit = True

    def conninfo(self):
        e = self.env
        return "dbname={} host={} port={} user={}".format(
            self.name, e["PGHOST"], e.get("PGPORT", "5432"), e.get("PGUSER", "postgres"))

    def sql(self, text, args=None):
        with self.conn.cursor() as cur:
            cur.execute(text, args)
            if cur.description:
                return cur.fetchall()
            return None

    def add_server(self, addr, country, netspeed=1500, score=15.0):
        return self.sql("INSERT INTO servers (address, country, netspeed, score) "
                        "VALUES (%s, %s, %s, %s) RETURNING id",
                        (addr, country, netspeed, score))[0][0]

    def approve_vendor(self, name, client_type):
        zid = self.sql("INSERT INTO zones (name, kind, parent_id) "
                       "SELECT %s, 'vendor', id FROM zones WHERE kind = 'global' RETURNING id",
                       (name,))[0][0]
        self.sql("INSERT INTO vendor_zones (name, organization, contact, device_count, "
                 "client_type, status, zone_id, decided_at) "
                 "VALUES (%s, 'Org', 'ops@example.org', 1000, %s, 'approved', %s, now())",
                 (name, client_type, zid))
        return zid

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass
        subprocess.run(["dropdb", "--force", "--if-exists", self.name], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Dns:
    """timepool-dns on 127.0.0.1 at an ephemeral port (read back from its log)."""

    def __init__(self, conninfo, extra=None, workdir=None, snapshot_file=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="tpdns-")
        self.own_dir = workdir is None
        self.snapshot_file = snapshot_file or os.path.join(self.dir, "snapshot")
        self.args = [DNS_BIN, "--set", "database.conninfo=" + conninfo + " connect_timeout=2",
                     "--set", 'dns.listen=["127.0.0.1:0"]',
                     "--set", "dns.metrics_listen=127.0.0.1:0",
                     "--set", "dns.snapshot_file=" + self.snapshot_file,
                     "--set", 'dns.apex=["pool.example", "pool.example.net"]',
                     "--set", 'dns.ns=["ns1.pool.example", "ns2.example.org"]',
                     "--set", "dns.identity=dns-test",
                     "--set", "log.level=debug"] + list(extra or [])
        self.start()

    def start(self):
        self.log_path = os.path.join(self.dir, "dns-%d.log" % int(time.time() * 1000))
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 20
        self.port = self.metrics_port = None
        while time.time() < deadline:
            text = open(self.log_path).read()
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
            mm = re.search(r"metrics on http://127\.0\.0\.1:(\d+)", text)
            if m and mm and "serving apexes" in text:
                self.port, self.metrics_port = int(m.group(1)), int(mm.group(1))
                return
            if self.proc.poll() is not None:
                fail("timepool-dns exited: " + text)
            time.sleep(0.05)
        fail("timepool-dns did not start: " + open(self.log_path).read())

    def log_text(self):
        return open(self.log_path).read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail("timepool-dns did not stop on SIGTERM")
            if code != 0:
                fail("timepool-dns exit code %d: %s" % (code, self.log_text()[-3000:]))
        self.log.close()

    def close(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- queries -------------------------------------------------------------------------
    def query(self, name, rdtype="A", rdclass="IN", tcp=False, payload=None, want_dnssec=False,
              timeout=3.0):
        q = dns.message.make_query(name, rdtype, rdclass, use_edns=payload is not None,
                                   payload=payload or 512, want_dnssec=want_dnssec)
        if tcp:
            return dns.query.tcp(q, "127.0.0.1", port=self.port, timeout=timeout)
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=timeout,
                             ignore_trailing=False)

    def raw_udp(self, data, timeout=0.5):
        """Sends bytes; returns the reply bytes or None on silence."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(data, ("127.0.0.1", self.port))
            try:
                return s.recv(65535)
            except socket.timeout:
                return None

    def addresses(self, name, rdtype="A"):
        r = self.query(name, rdtype)
        out = []
        for rrset in r.answer:
            out.extend(rd.address for rd in rrset)
        return out

    def metrics(self):
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port, timeout=5) as r:
            return r.read().decode()

    def wait_for(self, pred, timeout, what):
        start = time.time()
        while time.time() - start < timeout:
            if pred():
                return time.time() - start
            time.sleep(0.1)
        fail("%s did not happen within %.1f s" % (what, timeout))


def dig(port, *args):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+time=2", "+tries=1"] + list(args),
                         capture_output=True, text=True, timeout=20)
    return out.stdout


def kdig(port, *args):
    out = subprocess.run(["kdig", "@127.0.0.1", "-p", str(port), "+time=2", "+retry=0"] + list(args),
                         capture_output=True, text=True, timeout=20)
    return out.stdout
