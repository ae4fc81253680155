"""Issue 14, the DNS doors: the zone's own NS names answer their configured addresses and NS
answers carry them as glue (dig, kdig, dnspython); IXFR is refused like AXFR; CHAOS
identification is off unless configured and never shows the host name by default."""
import socket

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

from dnstest import Database, Dns, check, dig, kdig, tptest


def rrs(section, rdtype):
    return sorted(rd.to_text() for rrset in section if rrset.rdtype == rdtype for rd in rrset)


def main():
    db = Database()
    srv = bare = None
    try:
        db.add_server("192.0.2.1", "de", 1500)
        srv = Dns(db.conninfo(), ["--set", 'dns.ns_addresses=["ns1.pool.example 192.0.2.53", '
                                  '"ns1.pool.example 2001:db8::53"]'])
        p = srv.port

        # --- Glue --------------------------------------------------------------------------
        r = srv.query("pool.example", "NS")
        check(rrs(r.additional, dns.rdatatype.A) == ["192.0.2.53"] and
              rrs(r.additional, dns.rdatatype.AAAA) == ["2001:db8::53"],
              "NS answer carries ns1's A and AAAA as glue: %s" % r.additional)
        check(not r.flags & dns.flags.TC, "the NS answer with glue fits in 512 bytes")
        out = dig(p, "+norec", "pool.example", "NS")
        check("ns1.pool.example.\t86400\tIN\tA\t192.0.2.53" in out and "ADDITIONAL: 3" in out,
              "dig sees the glue (2 addresses + OPT)")
        check(kdig(p, "+short", "ns1.pool.example", "A").split() == ["192.0.2.53"],
              "ns1.pool.example A (kdig)")
        check(dig(p, "+short", "ns1.pool.example", "AAAA").split() == ["2001:db8::53"],
              "ns1.pool.example AAAA (dig)")
        r = srv.query("ns1.pool.example", "A")
        check(r.rcode() == 0 and r.flags & dns.flags.AA and r.answer[0].ttl == 86400,
              "ns1 A is authoritative with the NS TTL")
        r = srv.query("ns1.pool.example", "TXT")
        check(r.rcode() == 0 and not r.answer and r.authority[0].rdtype == dns.rdatatype.SOA,
              "ns1 TXT: NODATA")
        r = srv.query("ns1.pool.example", "A", tcp=True)
        check(rrs(r.answer, dns.rdatatype.A) == ["192.0.2.53"], "ns1 A over TCP")

        # --- IXFR and AXFR refused alike (today IXFR got FORMERR) ----------------------------
        q = dns.message.make_query("pool.example", "IXFR")
        q.authority.append(dns.rrset.from_text(
            "pool.example.", 3600, "IN", "SOA",
            "ns1.pool.example. hostmaster.pool.example. 1 3600 600 1209600 60"))
        for transport in ("udp", "tcp"):
            f = dns.query.udp if transport == "udp" else dns.query.tcp
            r = f(q, "127.0.0.1", port=p, timeout=3)
            check(r.rcode() == dns.rcode.REFUSED, "IXFR over %s: REFUSED, got %s" %
                  (transport, dns.rcode.to_text(r.rcode())))
        r = dns.query.tcp(dns.message.make_query("pool.example", "AXFR"), "127.0.0.1", port=p,
                          timeout=3)
        check(r.rcode() == dns.rcode.REFUSED, "AXFR over TCP: REFUSED")

        # --- CHAOS: identity configured by the test harness, version not ---------------------
        check(dig(p, "+short", "id.server", "CH", "TXT").strip() == '"dns-test"',
              "configured identity answers id.server")
        for name in ("version.bind", "version.server"):
            r = srv.query(name, "TXT", "CH")
            check(r.rcode() == dns.rcode.REFUSED, name + " REFUSED when no version is configured")
        srv.stop()
        srv = None

        # --- CHAOS with nothing configured: everything refused, the host name never shown ----
        bare = Dns(db.conninfo(), ["--set", "dns.identity="])
        host = socket.gethostname()
        for name in ("id.server", "hostname.bind", "version.bind", "version.server"):
            r = bare.query(name, "TXT", "CH")
            check(r.rcode() == dns.rcode.REFUSED and not r.answer, name + ": REFUSED by default")
        out = dig(bare.port, "hostname.bind", "CH", "TXT") + dig(bare.port, "id.server", "CH", "TXT")
        check(host not in out.replace("hostname.bind", ""), "the host name is never revealed")
        r = bare.query("pool.example", "NS")
        check(not r.additional, "no glue without configured addresses")
    finally:
        tptest.close_all(srv, bare, db)
    print("PASS")


if __name__ == "__main__":
    main()
