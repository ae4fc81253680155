"""Hosts made of network namespaces: a bridge in a namespace of its own
(the switch) and one namespace per host, each joined to the bridge by a veth pair, with one
address of 127.79.0.0/24 (or 127.79.1.0/24) on it. As in tests/integration/world/world.sh, each
host narrows its loopback to 127.0.0.1/32 and sets route_localnet, so the rest of 127/8 goes
over its link: every address stays inside 127.0.0.0/8, no packet reaches the machine's own
network, and every port (53, 123, 5432 ...) is free in each host.

Needs root. close() kills whatever still runs in the namespaces and deletes them; the
namespaces' names share one random prefix, so two tests never meet. Used by the failover drill
and the multi-site monitoring test (tests/integration/monitor/test_sites.py)."""
import os
import re
import secrets
import signal
import subprocess

import tptest

NET = "127.79.0"


def _ip(*args):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def _namespaces():
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()]


class Host:
    """One namespace: `addr` is its address on the bridge; cmd(argv) runs argv inside it
    (ip netns exec replaces itself with the program, so the pid is the program's)."""

    def __init__(self, name, ns, addr):
        self.name = name
        self.ns = ns
        self.addr = addr

    def cmd(self, argv):
        return ["ip", "netns", "exec", self.ns] + list(argv)

    def pids(self):
        out = subprocess.run(["ip", "netns", "pids", self.ns], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


class Network:
    """The switch and its hosts. The prefix names everything (interface names are at most 15
    characters: prefix 6 + host 4 + 1)."""

    def __init__(self, prefix=None):
        if prefix is None:
            taken = _namespaces()
            while True:
                prefix = "td%04x" % secrets.randbelow(0x10000)
                if not any(n.startswith(prefix) for n in taken):
                    break
        self.prefix = prefix
        self.switch = prefix + "sw"
        self.hosts = {}

    def create(self):
        _ip("netns", "add", self.switch)
        _ip("-n", self.switch, "link", "add", "name", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        return self

    def add_host(self, name, addr, routes=()):
        """A namespace on the bridge with addr/24; `routes` are other /24s on the same bridge
        (reached directly, without a router)."""
        assert len(name) <= 4
        ns = self.prefix + name
        _ip("netns", "add", ns)
        outer, inner = self.prefix + name + "a", self.prefix + name + "b"
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        _ip("link", "set", outer, "netns", self.switch)
        _ip("-n", self.switch, "link", "set", outer, "master", "br0", "up")
        _ip("link", "set", inner, "netns", ns)
        _ip("-n", ns, "link", "set", inner, "name", "eth0")
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", ns, "addr", "del", "127.0.0.1/8", "dev", "lo")
        _ip("-n", ns, "addr", "add", "127.0.0.1/32", "dev", "lo")
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                        "net.ipv4.conf.all.route_localnet=1"], check=True)
        _ip("-n", ns, "addr", "add", addr + "/24", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        for net in routes:
            _ip("-n", ns, "route", "add", net, "dev", "eth0")
        return self.host(name, addr)

    def host(self, name, addr):
        """The Host of a namespace made before (by this process or the one that started it)."""
        h = Host(name, self.prefix + name, addr)
        self.hosts[name] = h
        return h

    def close(self):
        """Kills what still runs in the hosts (all of it started by the drill) and deletes the
        namespaces."""
        for ns in [n for n in _namespaces() if n.startswith(self.prefix)]:
            out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for p in out.stdout.split():
                try:
                    os.kill(int(p), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for ns in [n for n in _namespaces() if n.startswith(self.prefix)]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


class Dns(tptest.Daemon):
    """timepool-dns inside `host`, on its address, port 53, answering for pool.example; its
    database settings in `env` (TIMEPOOL_DATABASE_CONNINFO ...), more --set options in `extra`.
    addresses(name) asks it for A records from the caller's namespace."""

    def __init__(self, host, env, extra, workdir, metrics_listen="127.0.0.1:0"):
        self.addr = host.addr
        args = host.cmd([tptest.DNS, "--set", 'dns.listen=["%s:53"]' % host.addr,
                         "--set", "dns.metrics_listen=" + metrics_listen,
                         "--set", "dns.snapshot_file=" + os.path.join(workdir, "snapshot"),
                         "--set", 'dns.apex=["pool.example"]',
                         "--set", 'dns.ns=["ns1.pool.example"]',
                         "--set", "dns.rrl_rate=0"] + list(extra))
        super().__init__("dns", args, workdir=workdir, env=dict(os.environ, **env),
                         ready=[r"listening on %s:53" % re.escape(host.addr), r"serving apexes"])

    def addresses(self, name):
        import dns.message
        import dns.query
        r = dns.query.udp(dns.message.make_query(name, "A"), self.addr, port=53, timeout=2)
        return [rd.address for rrset in r.answer for rd in rrset]
