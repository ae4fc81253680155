"""Helpers for the geo tests: the dns test harness plus addresses picked from the tor-geoipdb
range files and EDNS Client Subnet queries."""
import ipaddress
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dns"))

import dns.edns  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402

from dnstest import Database, Dns, check, fail  # noqa: E402,F401

GEOIP4 = "/usr/share/tor/geoip"


def ranges_v4():
    """(low, high, cc) from the IPv4 range file, skipping comments and unknown ranges."""
    if not os.path.exists(GEOIP4):
        fail("%s missing: install tor-geoipdb (deploy/install-deps.sh); the geo tests need it"
             % GEOIP4)
    out = []
    with open(GEOIP4) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            lo, hi, cc = line.strip().split(",")
            if cc == "??":
                continue
            out.append((int(lo), int(hi), cc.lower()))
    return out


def address_in(ranges, cc):
    """A public address in the middle of the widest range the file gives `cc`, and that range."""
    best = None
    for lo, hi, c in ranges:
        if c != cc:
            continue
        mid = ipaddress.IPv4Address((lo + hi) // 2)
        if not mid.is_global:
            continue
        if best is None or hi - lo > best[1] - best[0]:
            best = (lo, hi)
    if best is None:
        fail("no range for %s in %s" % (cc, GEOIP4))
    return ipaddress.IPv4Address((best[0] + best[1]) // 2), best


def ecs_query(srv, name, address, srclen=24, rdtype="A", options=None):
    if options is None:
        options = [dns.edns.ECSOption(str(address), srclen)] if address else []
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232, options=options)
    return dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=3)


def addrs(r):
    return {rd.address for rr in r.answer for rd in rr}


def ecs_of(r):
    for o in r.options:
        if o.otype == dns.edns.ECS:
            return o
    return None
