"""Helpers for the timepool-dns integration tests: a fresh migrated database, servers and
zones written with SQL, and timepool-dns started on an ephemeral loopback port.

Environment (set by ctest, see tests/CMakeLists.txt): PGHOST/PGPORT/PGUSER of the shared test
cluster, TIMEPOOL_SOURCE_DIR and TIMEPOOL_BINARY_DIR.
"""
import os
import socket
import subprocess
import sys
import tempfile

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import tptest  # noqa: E402
from tptest import SRC, BIN, check, fail  # noqa: E402,F401

DNS_BIN = tptest.DNS
CTL_BIN = tptest.CTL


class Database(tptest.Database):
    """A fresh migrated database (tptest.Database) with the rows the DNS tests write."""

    def __init__(self, env=None):
        super().__init__("tp_dns_", env)

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


class Dns(tptest.Daemon):
    """timepool-dns on 127.0.0.1 at an ephemeral port (read back from its log)."""

    def __init__(self, conninfo, extra=None, workdir=None, snapshot_file=None):
        work = workdir or tempfile.mkdtemp(prefix="tpdns-")
        self.snapshot_file = snapshot_file or os.path.join(work, "snapshot")
        args = [DNS_BIN, "--set", "database.conninfo=" + conninfo + " connect_timeout=2",
                "--set", 'dns.listen=["127.0.0.1:0"]',
                "--set", "dns.metrics_listen=127.0.0.1:0",
                "--set", "dns.snapshot_file=" + self.snapshot_file,
                "--set", 'dns.apex=["pool.example", "pool.example.net"]',
                "--set", 'dns.ns=["ns1.pool.example", "ns2.example.org"]',
                "--set", "dns.identity=dns-test",
                "--set", "log.level=debug"] + list(extra or [])
        # Response rate limiting is on by default (200/s per /24 and answer); the tests that
        # send bursts from 127.0.0.1 turn it off unless they are about it (test_rrl).
        if not any("dns.rrl_" in a for a in args):
            args += ["--set", "dns.rrl_rate=0"]
        super().__init__("dns", args, ready=[r"listening on 127\.0\.0\.1:(\d+)",
                                             r"metrics on http://127\.0\.0\.1:(\d+)",
                                             r"serving apexes"], workdir=work)
        self.own_dir = workdir is None

    def start(self):
        super().start()
        self.port = int(self.ready_match[0].group(1))
        self.metrics_port = int(self.ready_match[1].group(1))

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
        try:
            return tptest.wait_until(pred, timeout, what, 0.1)
        except tptest.Timeout as e:
            fail(str(e))


def burst(port, query, count, window=32):
    """Sends `count` copies of the dns.message `query` over UDP to 127.0.0.1:port, `window` in
    flight (each with its own id), and returns the answer address lists in arrival order;
    answers lost under load are asked again."""
    import struct
    query.flags = 0
    wire = bytearray(query.to_wire())
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        sent = 0
        while len(out) < count:
            while sent < count and sent - len(out) < window:
                struct.pack_into("!H", wire, 0, sent & 0xFFFF)
                s.sendto(wire, ("127.0.0.1", port))
                sent += 1
            try:
                data = s.recv(4096)
            except socket.timeout:
                sent = len(out)  # lost under load: resend the rest
                continue
            r = dns.message.from_wire(data)
            out.append([rd.address for rr in r.answer for rd in rr])
    return out


def dig(port, *args):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+time=2", "+tries=1"] + list(args),
                         capture_output=True, text=True, timeout=20)
    return out.stdout


def kdig(port, *args):
    out = subprocess.run(["kdig", "@127.0.0.1", "-p", str(port), "+time=2", "+retry=0"] + list(args),
                         capture_output=True, text=True, timeout=20)
    return out.stdout
