"""The balancer in timepool-dns (issue 13): demand injected into dns_demand is read by the
loader, the mixtures it computes are published with the snapshot, and answers follow them.

The world: lu has 3 servers of 512 kbit/s and most of the demand, de 10 servers of 25,000,
us 12 of 100,000. Without demand rows lu's clients get lu's 3 servers (3 >= geo_min_servers).
With them, lu's servers may carry at most twice the pool's average per netspeed: its clients
go mostly to europe and, since europe cannot hold them all at that bound either, to the global
zone; de's and us's clients stay home.

What is checked, through DNS only:
1. `_country.pool.example` names the mixture for a client in lu once the demand is in (and
   the plain rule before);
2. the first records of N answers for a client in lu follow that mixture: Pearson's
   chi-square of the counts in lu, de and us against the shares the mixture gives each
   (share of a tier times the group's netspeed share in that tier), at the 0.1% level;
3. every answer holds 4 distinct servers;
4. the numbered labels of us (12 equal servers, its own clients' mixture is us alone) hold 4
   disjoint quarters of equal netspeed totals that together are the zone.
"""

import dns.edns
import dns.message

from geotest import Database, Dns, address_in, check, ecs_query, ranges_v4
import dnstest  # noqa: E402 (geotest puts tests/integration/dns on the path)

N = 6000
CRIT_0001_2DF = 13.82
LU, DE, US = 512, 25000, 100000


def fast_ecs_queries(port, name, address, count):
    """`count` A queries for `name` with an ECS option for `address`/24, 32 in flight; the
    answer address lists."""
    q = dns.message.make_query(name, "A", use_edns=0, payload=1232,
                               options=[dns.edns.ECSOption(str(address), 24)])
    return dnstest.burst(port, q, count)


def debug_text(srv, address):
    r = ecs_query(srv, "_country.pool.example", address, rdtype="TXT")
    return b"".join(s for rr in r.answer for rd in rr for s in rd.strings).decode()


def parse_mixture(text):
    """{'lu': 0.0002, 'europe': 0.24, '@': 0.76} from '... mixture lu 0.0002, europe ...'."""
    part = text.split("mixture ", 1)[1].split(" address", 1)[0]
    out = {}
    for item in part.split(","):
        name, share = item.split()
        out[name] = float(share)
    return out


def add_world(db):
    """The world of the balancer's tests: lu 3 servers of 512 kbit/s, de 10 of 25,000, us 12 of
    100,000. Returns the addresses of each country's servers: (lu, de, us)."""
    lu = ["203.0.113.%d" % (i + 1) for i in range(3)]
    de = ["192.0.2.%d" % (i + 1) for i in range(10)]
    us = ["198.51.100.%d" % (i + 1) for i in range(12)]
    for country, netspeed, addresses in (("lu", LU, lu), ("de", DE, de), ("us", US, us)):
        for a in addresses:
            db.add_server(a, country, netspeed)
    return lu, de, us


def main():
    ranges = ranges_v4()
    db = Database()
    srv = None
    try:
        lu, de, us = add_world(db)
        srv = Dns(db.conninfo(), ["--set", "dns.geo_min_servers=3",
                                  "--set", "dns.balancer_interval=1",
                                  "--set", "dns.rng_seed=13"])
        lu_client = address_in(ranges, "lu")[0]
        us_client = address_in(ranges, "us")[0]
        before = debug_text(srv, lu_client)
        check("mixture" not in before and "zone=lu" in before,
              "no demand yet: lu's clients by the plain rule (%s)" % before)

        # One minute of demand, as the DNS servers' counts would add it up.
        # One statement, so the balancer never reads a part of it.
        db.sql("INSERT INTO dns_demand (minute, zone_id, family, count) "
               "SELECT date_trunc('minute', now()), id, 4, "
               "CASE name WHEN 'lu' THEN 3000 ELSE 100 END FROM zones "
               "WHERE name IN ('lu', 'de', 'us')")
        srv.wait_for(lambda: "mixture" in debug_text(srv, lu_client)
                     and "mixture" in debug_text(srv, us_client), 20,
                     "the balancer's mixtures for lu and us published")
        text = debug_text(srv, lu_client)
        mix = parse_mixture(text)
        check(set(mix) <= {"lu", "europe", "@"} and mix.get("@", 0) > 0.5
              and mix.get("europe", 0) > 0.1,
              "lu's clients: mostly global, a part from europe, almost none from lu (%s)" % mix)
        us_text = debug_text(srv, us_client)
        check(parse_mixture(us_text) == {"us": 1.0}, "us's clients stay in us (%s)" % us_text)

        # 2./3. The first records follow the mixture.
        answers = fast_ecs_queries(srv.port, "pool.example", lu_client, N)
        check(all(len(a) == 4 and len(set(a)) == 4 for a in answers),
              "4 distinct servers in every answer")
        w_lu, w_de, w_us = 3 * LU, 10 * DE, 12 * US
        w_eu, w_all = w_lu + w_de, w_lu + w_de + w_us
        share = {
            "lu": mix.get("lu", 0) + mix.get("europe", 0) * w_lu / w_eu + mix.get("@", 0) * w_lu / w_all,
            "de": mix.get("europe", 0) * w_de / w_eu + mix.get("@", 0) * w_de / w_all,
            "us": mix.get("@", 0) * w_us / w_all,
        }
        group = {a: "lu" for a in lu}
        group.update({a: "de" for a in de})
        group.update({a: "us" for a in us})
        observed = {"lu": 0, "de": 0, "us": 0}
        for a in answers:
            observed[group[a[0]]] += 1
        chi = sum((observed[g] - N * share[g]) ** 2 / (N * share[g]) for g in share)
        check(chi < CRIT_0001_2DF,
              "first records follow the mixture: chi-square %.2f < %.2f (2 df); observed %s, "
              "expected %s" % (chi, CRIT_0001_2DF, observed,
                               {g: round(N * s) for g, s in share.items()}))

        # 4. us's quarters: disjoint, equal netspeed totals, together the zone.
        quarters = []
        for q in range(4):
            seen = set()
            for a in fast_ecs_queries(srv.port, "%d.us.pool.example" % q, us_client, 200):
                seen |= set(a)
            quarters.append(seen)
        union = set().union(*quarters)
        check(union == set(us) and sum(len(q) for q in quarters) == len(us),
              "us's numbered labels hold disjoint quarters that together are the zone")
        totals = [US * len(q) for q in quarters]
        check(len(set(totals)) == 1, "us's quarters have equal netspeed totals %s" % totals)
        print("ok: mixture for lu %s, chi-square %.2f, quarters %s" % (mix, chi, totals))
    finally:
        if srv:
            srv.close()
        db.close()


if __name__ == "__main__":
    main()
