"""Answers are drawn by netspeed down to the first record, and the numbered quarters are balanced
by netspeed (issue 13).

Two countries in a real database, served by timepool-dns with a fixed RNG seed:
- se: the issue's case, 11 servers of mixed netspeed with one small server (512 kbit/s, the
  smallest the schema allows). Split by server id, as before, its quarters held
  38,500 / 3,512 / 15,000 / 4,500 kbit/s;
- dk: 40 servers, so each quarter has about 10 members and an answer is a real draw within it.

What is checked, through DNS only (members are the addresses seen in the answers of each label,
their netspeeds come from the database):
1. The numbered labels 0-3 hold disjoint quarters that together are the zone, and each quarter's
   netspeed total exceeds the lightest quarter's by at most the netspeed of its own smallest
   member: the bound of largest-first list scheduling (an id split breaks it at once).
2. The first record of an answer follows netspeed: Pearson's chi-square of the first addresses
   of N answers against the netspeed shares, on the bare name (4 of 11 drawn) and on every
   numbered label (a draw within the quarter; for se, every member in every answer, so only the
   order is drawn). Tolerance: the 0.1% critical value for the degrees of freedom, so a correct
   server fails about once in a thousand runs of a fresh seed, never with the fixed one here.
3. Every answer holds 4 distinct servers (or the whole quarter when it has fewer).
"""
from dnstest import Database, Dns, check, tptest
from test_weighting import chi_square, fast_queries

# 0.1% critical values of chi-square for 1..15 degrees of freedom.
CRIT_0001 = [10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88, 29.59, 31.26, 32.91,
             34.53, 36.12, 37.70]
SE = [25000, 1500, 3000, 1500, 12000, 1500, 6000, 3000, 1500, 512, 6000]
DK = ([512, 1500, 3000, 6000, 12000, 25000, 50000, 1500, 3000, 6000] * 4)[:40]
N_BARE = 8000
N_LABEL = 2000


def critical(df):
    """The 0.1% critical value: the table, beyond it Wilson and Hilferty's approximation (within
    0.5% of the exact value from 15 degrees of freedom up)."""
    if df <= len(CRIT_0001):
        return CRIT_0001[df - 1]
    z, h = 3.0902, 2.0 / (9 * df)
    return df * (1 - h + z * h ** 0.5) ** 3


def first_record_test(port, name, weight_of, n):
    """Chi-square of the first addresses of n answers for `name` against netspeed shares of the
    addresses seen; returns (members seen, answers)."""
    answers = fast_queries(port, name, n)
    seen = sorted({a for ans in answers for a in ans}, key=lambda a: tuple(map(int, a.split("."))))
    counts = {a: 0 for a in seen}
    for ans in answers:
        counts[ans[0]] += 1
    total = float(sum(weight_of[a] for a in seen))
    observed = [counts[a] for a in seen]
    expected = [n * weight_of[a] / total for a in seen]
    df = len(seen) - 1
    if df == 0:
        return seen, answers
    chi = chi_square(observed, expected)
    small = min(seen, key=lambda a: weight_of[a])
    check(chi < critical(df),
          "%s: first record follows netspeed, chi-square %.2f < %.2f (%d df); %s (%d kbit/s) "
          "first in %.2f%% of answers, netspeed share %.2f%%"
          % (name, chi, critical(df), df, small, weight_of[small],
             100.0 * counts[small] / n, 100.0 * weight_of[small] / total))
    return seen, answers


def check_zone(port, zone, addrs, weight_of):
    seen_bare, answers = first_record_test(port, zone + ".pool.example", weight_of, N_BARE)
    check(set(seen_bare) == set(addrs), "%s: the bare name answers every server" % zone)
    check(all(len(a) == 4 and len(set(a)) == 4 for a in answers),
          "%s: 4 distinct servers in every answer of the bare name" % zone)
    quarters = []
    for q in range(4):
        members, answers = first_record_test(port, "%d.%s.pool.example" % (q, zone), weight_of,
                                             N_LABEL)
        want = min(4, len(members))
        check(all(len(a) == want and len(set(a)) == want for a in answers),
              "%d.%s: %d distinct servers in every answer" % (q, zone, want))
        quarters.append(members)
    totals = [sum(weight_of[a] for a in m) for m in quarters]
    print("  %s quarter totals (kbit/s): %s; members %s"
          % (zone, " / ".join(str(t) for t in totals), " / ".join(str(len(m)) for m in quarters)))
    members = [a for m in quarters for a in m]
    check(len(members) == len(set(members)), "%s: the quarters are disjoint" % zone)
    check(set(members) == set(addrs), "%s: the quarters together are the zone" % zone)
    lightest = min(totals)
    for q, m in enumerate(quarters):
        smallest = min(weight_of[a] for a in m)
        check(totals[q] - lightest <= smallest,
              "%d.%s: total %d is within its smallest member (%d) of the lightest quarter (%d)"
              % (q, zone, totals[q], smallest, lightest))
    return totals


def main():
    db = Database()
    d = None
    try:
        weight_of = {}
        se, dk = [], []
        for i, ns in enumerate(SE):
            a = "192.0.2.%d" % (i + 1)
            db.add_server(a, "se", ns)
            weight_of[a] = ns
            se.append(a)
        for i, ns in enumerate(DK):
            a = "198.51.100.%d" % (i + 1)
            db.add_server(a, "dk", ns)
            weight_of[a] = ns
            dk.append(a)
        d = Dns(db.conninfo(), ["--set", "dns.rng_seed=1313"])
        check_zone(d.port, "se", se, weight_of)
        check_zone(d.port, "dk", dk, weight_of)
    finally:
        tptest.close_all(d, db)
    print("PASS")


if __name__ == "__main__":
    main()
