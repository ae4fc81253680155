"""Geo-aware answers: ECS-located clients in several countries get servers of the expected
zone, with the country -> continent -> global fallback at 0, 1, 2 and 3 servers; private and
malformed ECS; the echoed scope; the numbered labels' quarters; `_country` debug TXT."""
import ipaddress

import dns.edns
import dns.rcode
import dns.rdatatype

from geotest import Database, Dns, addrs, address_in, check, ecs_of, ecs_query, ranges_v4


def add_servers(db):
    """Returns each country's servers, europe's and all of them."""
    # Servers (documentation / private addresses are fine as pool members here).
    zone = {}
    def add(cc, n, base):
        zone[cc] = {"%s.%d" % (base, i + 1) for i in range(n)}
        for a in zone[cc]:
            db.add_server(a, cc, 1500)
    add("de", 3, "192.0.2")      # exactly min_servers: stays in de
    add("fr", 2, "198.51.100")   # 2: falls back to europe
    add("lu", 1, "203.0.113")    # 1: falls back to europe
    # at: 0 servers, falls back to europe
    add("jp", 8, "10.8.0")       # 8: quarters in jp
    # br: 0 servers and south-america empty: global
    europe = zone["de"] | zone["fr"] | zone["lu"]
    everything = europe | zone["jp"]
    return zone, europe, everything


def clients_get_their_zone(srv, client, expect):
    for cc, (addr, _) in client.items():
        for name, rounds in [("pool.example", 60), ("1.pool.example", 8),
                             ("acme.pool.example", 60)]:
            seen = set()
            for _ in range(rounds):
                r = ecs_query(srv, name, addr)
                if r.rcode() != 0:
                    check(False, "%s from %s (%s): NOERROR" % (name, addr, cc))
                seen |= addrs(r)
            check(seen and seen <= expect[cc],
                  "%s for a client in %s gets servers of the expected zone (%d seen)" %
                  (name, cc, len(seen)))
            if rounds > 8:
                # A bare label holds all of its zone's servers: in 60 answers of 4 records
                # each one shows up (a server missed has odds below 1e-8 at netspeed 1500).
                check(seen == expect[cc], "%s for a client in %s: every server of its zone "
                      "(missing %s)" % (name, cc, sorted(expect[cc] - seen)))


def ecs_echo(srv, client):
    # The echo: FAMILY, SOURCE and ADDRESS as sent, SCOPE from the range data (section 7.2.1).
    addr, (lo, hi) = client["de"]
    r = ecs_query(srv, "pool.example", addr)
    e = ecs_of(r)
    check(e is not None and e.srclen == 24 and e.address == str(ipaddress.ip_network(
        "%s/24" % addr, strict=False).network_address), "ECS echoed with the query's subnet")
    # The scope is the largest CIDR block around the address inside de's range.
    block = ipaddress.ip_network("%s/%d" % (addr, e.scopelen), strict=False)
    check(0 < e.scopelen <= 32 and int(block[0]) >= lo and int(block[-1]) <= hi,
          "scope /%d lies inside the de range" % e.scopelen)
    r = ecs_query(srv, "de.pool.example", addr)
    check(ecs_of(r) is not None and ecs_of(r).scopelen == 0,
          "explicit country name: ECS echoed with scope 0 (answer does not depend on it)")


def explicit_names_and_quarters(srv, client, zone, europe):
    # Explicit names: their own zone; continent only when empty.
    seen = set()
    for _ in range(10):
        seen |= addrs(ecs_query(srv, "fr.pool.example", client["jp"][0]))
    check(seen == zone["fr"], "fr.pool.example keeps its 2 servers for a client in jp")
    seen = set()
    for _ in range(10):
        seen |= addrs(ecs_query(srv, "at.pool.example", None))
    check(seen and seen <= europe, "at.pool.example (empty) answers from europe")

    # Numbered labels keep disjoint quarters in the chosen zone.
    quarters = []
    for q in range(4):
        s = set()
        for _ in range(6):
            s |= addrs(ecs_query(srv, "%d.pool.example" % q, client["jp"][0]))
        check(s and s <= zone["jp"], "%d.pool.example for jp: jp servers" % q)
        quarters.append(s)
    check(all(not (quarters[i] & quarters[j]) for i in range(4) for j in range(i + 1, 4)),
          "the four numbered labels give disjoint quarters of jp")


def private_and_malformed_ecs(srv, zone, europe):
    # Private ECS: ignored (the resolver, loopback, is not located: global), scope 0.
    seen = set()
    for _ in range(20):
        r = ecs_query(srv, "pool.example", ipaddress.IPv4Address("10.1.2.0"))
        seen |= addrs(r)
    check(ecs_of(r) is not None and ecs_of(r).scopelen == 0, "private ECS echoed with scope 0")
    check(seen - europe and seen - zone["jp"], "private ECS: answered from the global zone")
    # Malformed ECS: FORMERR (RFC 7871 section 7.1.2): 24-bit source with 4 address bytes,
    # a non-zero scope, an unknown family.
    for data, why in [(b"\x00\x01\x18\x00\x01\x02\x03\x04", "too many address bytes"),
                      (b"\x00\x01\x18\x08\x01\x02\x03", "scope not zero"),
                      (b"\x00\x07\x18\x00\x01\x02\x03", "unknown family"),
                      (b"\x00\x01", "truncated")]:
        r = ecs_query(srv, "pool.example", None,
                      options=[dns.edns.GenericOption(dns.edns.ECS, data)])
        check(r.rcode() == dns.rcode.FORMERR, "malformed ECS (%s): FORMERR" % why)


def debug_txt(srv, client):
    # The debug TXT, for loopback.
    r = ecs_query(srv, "_country.pool.example", client["lu"][0], rdtype="TXT")
    text = b"".join(s for rr in r.answer for rd in rr for s in rd.strings).decode()
    check(r.rcode() == 0 and "country=lu" in text and "zone=europe" in text,
          "_country TXT says country lu, zone europe: " + text)
    r = ecs_query(srv, "_country.pool.example", None, rdtype="TXT")
    text = b"".join(s for rr in r.answer for rd in rr for s in rd.strings).decode()
    # Loopback is not in the range data: no country, the global zone.
    check(r.rcode() == 0 and "source=resolver" in text and "country=unknown" in text
          and " zone=@ " in text, "_country TXT without ECS: " + text)


def geo_off(db, client, zone, started):
    # Geo off: ECS ignored (no echo), answers from the global zone.
    off = Dns(db.conninfo(), ["--set", "dns.geo=false"])
    started.append(off)
    r = ecs_query(off, "pool.example", client["de"][0])
    check(ecs_of(r) is None, "geo off: no ECS echo")
    seen = set()
    for _ in range(20):
        seen |= addrs(ecs_query(off, "pool.example", client["de"][0]))
    check(len(seen - zone["de"]) > 0, "geo off: a client in de also gets servers outside de")
    r = ecs_query(off, "_country.pool.example", None, rdtype="TXT")
    check(r.rcode() == dns.rcode.NXDOMAIN, "geo off: _country does not exist")


def main():
    ranges = ranges_v4()
    db = Database()
    srv = None
    started = []
    try:
        zone, europe, everything = add_servers(db)
        db.approve_vendor("acme", "both")
        srv = Dns(db.conninfo(), ["--set", "dns.geo_min_servers=3"])
        client = {cc: address_in(ranges, cc) for cc in ["de", "fr", "lu", "at", "jp", "br"]}
        expect = {"de": zone["de"], "fr": europe, "lu": europe, "at": europe, "jp": zone["jp"],
                  "br": everything}
        clients_get_their_zone(srv, client, expect)
        ecs_echo(srv, client)
        explicit_names_and_quarters(srv, client, zone, europe)
        private_and_malformed_ecs(srv, zone, europe)
        debug_txt(srv, client)
        srv.close()
        srv = None
        geo_off(db, client, zone, started)
    finally:
        for s in [srv] + started:
            if s:
                s.close()
        db.close()
    print("all geo answer checks passed")


if __name__ == "__main__":
    main()
