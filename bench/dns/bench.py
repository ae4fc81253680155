"""The DNS benchmark (see run.sh). Servers are pinned to CPU 0 and dnsperf to CPU 1
(TESTING-NOTES); runs are interleaved (timepool, knot, gdnsd, timepool, ...) and each figure
is the median of ROUNDS runs."""
import argparse
import glob
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import dns.message
import dns.query

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLUSTER = os.path.join(ROOT, "tests", "support", "pg-cluster.sh")
NETSPEEDS = [512, 1500, 3000, 6000, 12000, 25000, 50000, 100000, 250000, 500000, 1000000]
APEX = "pool.example"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime, all threads


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def wait_port(port, name, timeout=20):
    q = dns.message.make_query(name, "SOA")
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            dns.query.udp(q, "127.0.0.1", port=port, timeout=0.3)
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError("no answer on port %d" % port)


def free_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- data ------------------------------------------------------------------------------------

def make_database(work, nservers):
    folder = "/tmp/tpbench-" + secrets.token_hex(4)
    sh([CLUSTER, "start", folder], stdout=subprocess.DEVNULL)
    env = dict(os.environ, PGHOST=folder, PGPORT="5432", PGUSER="postgres")
    sh(["createdb", "bench"], env=env)
    conninfo = "dbname=bench host=%s user=postgres" % folder
    return folder, env, conninfo


def load_data(env, conninfo, ctl, nservers, rnd):
    sh([ctl, "--set", "database.conninfo=" + conninfo, "migrate"], stdout=subprocess.DEVNULL,
       stderr=subprocess.DEVNULL)
    psql = lambda sql: subprocess.run(["psql", "-qAt", "-d", "bench", "-v", "ON_ERROR_STOP=1", "-c", sql],
                                      env=env, check=True, capture_output=True, text=True).stdout
    countries = psql("SELECT name FROM zones WHERE kind = 'country' AND alias_of IS NULL ORDER BY name").split()
    nzones = int(psql("SELECT count(*) FROM zones"))
    # Server counts per country follow a Zipf-like curve, as in the real pool.
    weights = [1.0 / (i + 1) ** 1.1 for i in range(len(countries))]
    rnd.shuffle(countries)
    rows = []
    for i in range(nservers):
        c = rnd.choices(countries, weights)[0]
        if i % 5 == 0:
            addr = "2001:db8:%x:%x::1" % (i >> 16, i & 0xFFFF)
        else:
            addr = "10.%d.%d.%d" % (i >> 16, (i >> 8) & 0xFF, i & 0xFF)
        rows.append("%s\t%s\t%d\t15" % (addr, c, rnd.choice(NETSPEEDS)))
    copy = subprocess.run(["psql", "-q", "-d", "bench", "-v", "ON_ERROR_STOP=1", "-c",
                           "COPY servers (address, country, netspeed, score) FROM STDIN"],
                          input="\n".join(rows) + "\n", env=env, text=True, check=True)
    # Vendor zones bring the total to 300 zones.
    for v in range(300 - nzones):
        name = "vendor%02d" % v
        ct = ["ntp", "sntp", "both"][v % 3]
        psql("WITH z AS (INSERT INTO zones (name, kind, parent_id) SELECT '%s', 'vendor', id FROM zones "
             "WHERE kind = 'global' RETURNING id) INSERT INTO vendor_zones (name, organization, contact, "
             "device_count, client_type, status, zone_id, decided_at) SELECT '%s', 'Org', 'ops', 1000, "
             "'%s', 'approved', id, now() FROM z" % (name, name, ct))
    # Planner statistics, as autovacuum keeps them on a live database: right after a bulk load
    # the planner guesses a few hundred servers and reads eligible_servers by nested loops.
    psql("ANALYZE")
    return int(psql("SELECT count(*) FROM zones")), int(psql("SELECT count(*) FROM eligible_servers"))


# --- servers ---------------------------------------------------------------------------------

class Proc:
    def __init__(self, name, cmd, port, log, env=None):
        self.name, self.port = name, port
        self.log = open(log, "w")
        self.p = subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=self.log,
                                  stderr=subprocess.STDOUT, env=env, start_new_session=True)
        wait_port(port, APEX)

    @property
    def pid(self):
        return self.p.pid

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def start_timepool(build, work, conninfo, port, mport, name="timepool", extra=()):
    snap = "snapshot" if name == "timepool" else name + ".snapshot"
    return Proc(name, [os.path.join(build, "server", "timepool-dns"),
                             "--set", "database.conninfo=" + conninfo,
                             "--set", 'dns.listen=["127.0.0.1:%d"]' % port,
                             "--set", "dns.metrics_listen=127.0.0.1:%d" % mport,
                             "--set", "dns.udp_threads=1",
                             # dnsperf sends from one address: response rate limiting off, as
                             # in the peers' configurations.
                             "--set", "dns.rrl_rate=0",
                             "--set", "dns.snapshot_file=" + os.path.join(work, snap),
                             "--set", "dns.rebuild_interval=3600",
                             "--set", "log.level=info"] + list(extra), port,
                os.path.join(work, name + ".log"))


def metric(mport, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def published_names(snapshot_text):
    """The names timepool-dns answers with addresses, from its on-disk snapshot."""
    zones = {}
    members = {}
    for line in snapshot_text.splitlines():
        f = line.split(" ")
        if f[0] == "zone":
            zones[int(f[1])] = (f[2], f[3], f[4], f[5])
        elif f[0] == "server":
            for z in f[4].split(","):
                if z != "-":
                    members.setdefault(int(z), 0)
                    members[int(z)] += 1
    gid = [i for i, z in zones.items() if z[1] == "global"][0]
    names = []
    for zid, (name, kind, alias, ct) in zones.items():
        n = members.get(int(alias) if alias != "-" else (gid if kind == "vendor" else zid), 0)
        if n == 0:
            continue
        suffix = "" if name == "@" else name + "."
        if kind != "vendor" or ct != "ntp":
            names.append(suffix + APEX)
        if kind != "vendor" or ct != "sntp":
            names.extend("%d.%s%s" % (q, suffix, APEX) for q in range(4))
    return sorted(names)


def geo_routed(name):
    """Global names (apex, 0-3.) and vendor zones: the names whose answer depends on the client."""
    rel = name[:-len(APEX)].rstrip(".")
    parts = rel.split(".") if rel else []
    if parts and parts[0] in ("0", "1", "2", "3"):
        parts = parts[1:]
    return not parts or parts[0].startswith("vendor")


def pool_members(snapshot_text):
    """zone name -> list of (server id, address, netspeed, v6) as the snapshot holds them."""
    zones, servers = {}, []
    for line in snapshot_text.splitlines():
        f = line.split(" ")
        if f[0] == "zone":
            zones[int(f[1])] = f[2:6]
        elif f[0] == "server":
            servers.append((int(f[1]), f[2], int(f[3]), [int(z) for z in f[4].split(",") if z != "-"]))
    gid = [i for i, z in zones.items() if z[1] == "global"][0]
    by_zone = {}
    for sid, addr, ns, zs in sorted(servers):
        for z in zs:
            by_zone.setdefault(z, []).append((sid, addr, ns, ":" in addr))
    out = {}
    for zid, (name, kind, alias, ct) in zones.items():
        src = int(alias) if alias != "-" else (gid if kind == "vendor" else zid)
        out[name] = by_zone.get(src, [])
    return out


def quarter(servers, label):
    """The same split as Snapshot::build: per family, sorted by id, round robin into 4 from 8 up."""
    v4 = [s for s in servers if not s[3]]
    if label is None or len(v4) < 8:
        return v4
    return v4[label::4]


def write_knot(work, port, names, tp_port):
    """A static zone with the same names and the same answer sizes: each name holds the records
    of one real timepool-dns answer for it."""
    zdir = os.path.join(work, "knot")
    os.makedirs(zdir, exist_ok=True)
    lines = ["$ORIGIN %s." % APEX, "$TTL 150",
             "@ 3600 IN SOA ns1.%s. hostmaster.%s. 1 3600 600 1209600 60" % (APEX, APEX),
             "@ 86400 IN NS ns1.%s." % APEX]
    for name in names:
        r = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=tp_port, timeout=2)
        for rr in r.answer:
            for rd in rr:
                lines.append("%s. 150 IN A %s" % (name, rd.address))
    with open(os.path.join(zdir, APEX + ".zone"), "w") as f:
        f.write("\n".join(lines) + "\n")
    conf = os.path.join(zdir, "knot.conf")
    with open(conf, "w") as f:
        f.write("""server:
    listen: 127.0.0.1@%d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    rundir: %s
log:
  - target: stderr
    any: warning
database:
    storage: %s
template:
  - id: default
    storage: %s
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: %s
    file: %s.zone
""" % (port, zdir, zdir, zdir, APEX, APEX))
    return conf


def write_gdnsd(work, port, names, members):
    """gdnsd's weighted plugin, grouped-single mode: each name's servers in groups of 4 (so every
    answer has 4 records, as timepool's), a group chosen with probability proportional to its
    summed netspeed."""
    gdir = os.path.join(work, "gdnsd")
    os.makedirs(os.path.join(gdir, "zones"), exist_ok=True)
    res_lines = []
    zone = ["$TTL 150", "@ 3600 SOA ns1 hostmaster 1 3600 600 1209600 60", "@ 86400 NS ns1",
            "ns1 86400 A 192.0.2.53"]
    for i, name in enumerate(names):
        rel = name[: -len(APEX) - 1] if name != APEX else ""
        labels = rel.split(".") if rel else []
        if labels and labels[0] in "0123":
            label, zname = int(labels[0]), ".".join(labels[1:]) or "@"
        else:
            label, zname = None, (rel or "@")
        servers = quarter(members[zname], label)
        if not servers:
            continue
        groups = [servers[g:g + 4] for g in range(0, len(servers), 4)]
        if len(groups) > 1 and len(groups[-1]) < 4:
            groups[-2].extend(groups.pop())
        # gdnsd refuses more than 64 groups per resource: big names keep their first 64 groups
        # (256 servers), which makes gdnsd's per-query work lighter than a full 10,000.
        groups = groups[:64]
        res = "r%d" % i
        body = []
        for gi, grp in enumerate(groups):
            # Equal weights inside a group (so all 4 are always returned), the group's mean
            # netspeed as that weight (so groups are picked in proportion to their netspeed).
            w = sum(s[2] for s in grp) // len(grp) // 512 + 1
            body.append("      g%d => { %s }" % (gi, " ".join(
                "a%d => [ %s, %d ]" % (k, s[1], w) for k, s in enumerate(grp))))
        res_lines.append("    %s => {\n      multi = false\n%s\n    }" % (res, "\n".join(body)))
        zone.append("%s 150 DYNA weighted!%s" % (rel or "@", res))
    with open(os.path.join(gdir, "config"), "w") as f:
        f.write("options => {\n  listen => [ 127.0.0.1 ]\n  dns_port => %d\n  udp_threads => 1\n"
                "  tcp_threads => 1\n}\nplugins => {\n  weighted => {\n%s\n  }\n}\n"
                % (port, "\n".join(res_lines)))
    with open(os.path.join(gdir, "zones", APEX), "w") as f:
        f.write("\n".join(zone) + "\n")
    return gdir


# --- measuring -------------------------------------------------------------------------------

# Every query carries an EDNS Client Subnet option for a public IPv4 /24 (53.127.255.0/24, in
# Germany per tor-geoipdb): queries come from 127.0.0.1, which timepool-dns never looks up, so
# without it the geo run would skip the country lookup. All servers get the same option.
ECS_OPTION = "8:00011800357fff"


def dnsperf(port, qfile, seconds, rate=None, verbose=False):
    cmd = ["taskset", "-c", "1", "dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile,
           "-l", str(seconds), "-c", "4", "-q", "500", "-t", "2", "-E", ECS_OPTION]
    if rate:
        cmd += ["-Q", str(rate)]
    if verbose:
        cmd += ["-v"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res = {
        "qps": float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1)),
        "completed": int(re.search(r"Queries completed:\s+(\d+)", out).group(1)),
        "lost": int(re.search(r"Queries lost:\s+(\d+)", out).group(1)),
        "avg_latency": float(re.search(r"Average Latency \(s\):\s+([\d.]+)", out).group(1)),
    }
    if verbose:
        lat = []
        for l in out.splitlines():
            if l.startswith("> ") and re.match(r"^[\d.]+$", l.split()[-1]):
                lat.append(float(l.split()[-1]))
            elif l.startswith("> "):
                lat.append(2.0)  # timed out: counts as the -t limit
        lat.sort()
        res["p50"] = lat[len(lat) // 2]
        res["p99"] = lat[int(len(lat) * 0.99)]
    return res


def rebuild_once(tp, mport):
    """SIGHUP, then the loader's own measure of that rebuild (database read + build + publish)."""
    before = metric(mport, "timepool_dns_rebuilds_total")
    tp.p.send_signal(signal.SIGHUP)
    t0 = time.time()
    while metric(mport, "timepool_dns_rebuilds_total") == before and time.time() - t0 < 10:
        time.sleep(0.05)
    return metric(mport, "timepool_dns_rebuild_duration_seconds") * 1000


def measure_rebuilds(servers, count=5):
    """`count` rebuilds of each (tp, mport, log), interleaved; per server the medians of the
    rebuild and of the build alone, and the read / build / publish of the loader's log line
    for the rebuild with the median time (the log's figures of these rebuilds only)."""
    times = {tp.name: [] for tp, _, _ in servers}
    for _ in range(count):
        for tp, mport, _ in servers:
            times[tp.name].append(rebuild_once(tp, mport))
    out = {}
    for tp, _, log in servers:
        parts = re.findall(r"read=([\d.]+)ms build=([\d.]+)ms publish=([\d.]+)ms", open(log).read())
        parts = [tuple(float(x) for x in p) for p in parts[-count:]]
        total = [sum(p) for p in parts]
        median_run = parts[total.index(sorted(total)[len(total) // 2])] if parts else (0, 0, 0)
        out[tp.name] = (statistics.median(times[tp.name]), statistics.median(p[1] for p in parts),
                        median_run)
    return out


def run_rounds(servers, qfile, args):
    results = {s.name: [] for s in servers}
    for r in range(args.rounds):
        for s in servers:
            c0 = cpu_seconds(s.pid)
            t0 = time.time()
            res = dnsperf(s.port, qfile, args.seconds)
            cpu = cpu_seconds(s.pid) - c0
            lat = dnsperf(s.port, qfile, 1, rate=20000, verbose=True)
            res.update(cpu=cpu, wall=time.time() - t0, qpcs=res["completed"] / cpu if cpu else 0,
                       p50=lat["p50"], p99=lat["p99"])
            results[s.name].append(res)
            print("round %d %-15s %8.0f qps  cpu %.2fs/%ds  %8.0f q/cpu-s  p50 %.0fus p99 %.0fus" % (
                r + 1, s.name, res["qps"], cpu, args.seconds, res["qpcs"], lat["p50"] * 1e6, lat["p99"] * 1e6))
    return {n: {k: statistics.median(x[k] for x in v) for k in ("qps", "qpcs", "p50", "p99", "avg_latency", "cpu")}
            for n, v in results.items()}


LABELS = {"timepool-nogeo": "timepool-dns (geo off)", "timepool-before": "timepool-dns before (same geo)",
          "knot": "Knot DNS 3.2", "gdnsd": "gdnsd 3.8 weighted"}


def report(med, rss, servers, args, extra):
    lines = ["| server | qps | CPU (of %d s) | queries per CPU-second | p50 latency | p99 latency | RSS |" % args.seconds,
             "|---|---|---|---|---|---|---|"]
    labels = dict(LABELS, timepool="timepool-dns (geo %s)" % ("off" if args.geo == "off" else "on"))
    for n in [s.name for s in servers]:
        m = med[n]
        lines.append("| %s | %.0f | %.2f s | %.0f | %.0f us | %.0f us | %.1f MB |" % (
            labels[n], m["qps"], m["cpu"], m["qpcs"], m["p50"] * 1e6, m["p99"] * 1e6, rss[n]))
    lines.append("")
    for a, b in [("timepool", "knot"), ("timepool", "gdnsd"), ("timepool", "timepool-nogeo"),
                 ("timepool-nogeo", "knot"), ("timepool-before", "knot"), ("timepool", "timepool-before")]:
        if a in med and b in med:
            lines.append("Ratios %s/%s: qps %.2f, queries per CPU-second %.2f" % (
                a, b, med[a]["qps"] / med[b]["qps"], med[a]["qpcs"] / med[b]["qpcs"]))
    return lines + extra


def write_results(name, text):
    with open(os.path.join(ROOT, "bench", "dns", name), "w") as f:
        f.write("# bench/dns results (%s)\n\n%s\n" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), text))


def start_peers(work, names, snap_text, tp_port, procs):
    k_port, g_port = free_port(), free_port()
    conf = write_knot(work, k_port, names, tp_port)
    knot = Proc("knot", ["knotd", "-c", conf], k_port, os.path.join(work, "knot.log"))
    procs.append(knot)
    gdir = write_gdnsd(work, g_port, names, pool_members(snap_text))
    gd = Proc("gdnsd", ["gdnsd", "-c", gdir, "-R", "-D", "start"], g_port,
              os.path.join(work, "gdnsd.log"), env=dict(os.environ))
    procs.append(gd)
    return [knot, gd]


def scale_run(tp, mport, work, qfile, args, nservers, nzones, conninfo):
    """--scale: timepool-dns alone at a large size: rebuild time and resident memory after a
    few seconds of queries; with --baseline the earlier build beside it, rebuilds interleaved."""
    servers = [(tp, mport, os.path.join(work, "timepool.log"))]
    if args.baseline:
        bport = free_port()
        before = start_timepool(args.baseline, work, conninfo, free_port(), bport, name="timepool-before",
                                extra=["--set", "dns.geo=false"] if args.geo == "off" else [])
        servers.append((before, bport, os.path.join(work, "timepool-before.log")))
    try:
        rebuilds = measure_rebuilds(servers, args.rebuilds)
        lines = ["%d servers in DNS, %d zones, geo %s, one UDP worker; %d s of queries before RSS" % (
            nservers, nzones, "off" if args.geo == "off" else "on", args.seconds),
            "", "| server | rebuild (read + build + publish), median of %d | build alone | "
            "read / build / publish (median run) | RSS |" % args.rebuilds,
            "|---|---|---|---|---|"]
        for s, _, _ in servers:
            res = dnsperf(s.port, qfile, args.seconds)
            lines.append("| %s | %.1f ms | %.1f ms | %.0f / %.0f / %.0f ms | %.1f MB (at %.0f qps) |" % (
                LABELS.get(s.name, "timepool-dns"), rebuilds[s.name][0], rebuilds[s.name][1],
                *rebuilds[s.name][2], rss_mb(s.pid), res["qps"]))
    finally:
        for s, _, _ in servers[1:]:
            s.stop()
    text = "\n".join(lines)
    print("\n" + text)
    write_results("results-scale.md", text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 5)))
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SECONDS_PER_RUN", 4)))
    ap.add_argument("--servers", type=int, default=int(os.environ.get("SERVERS", 10000)))
    ap.add_argument("--geo", choices=["on", "off", "both"], default=os.environ.get("GEO", "both"),
                    help="timepool-dns with geo-aware answers, without, or both (interleaved)")
    ap.add_argument("--mix", choices=["all", "geo"], default=os.environ.get("MIX", "all"),
                    help="query every published name, or only those geo answers locate the "
                         "client for (global names and vendor zones)")
    ap.add_argument("--baseline", default=os.environ.get("BASELINE"),
                    help="the build folder of an earlier timepool-dns, run interleaved beside "
                         "the others with the same geo setting")
    ap.add_argument("--rebuilds", type=int, default=int(os.environ.get("REBUILDS", 5)),
                    help="rebuilds measured per server (median)")
    ap.add_argument("--scale", action="store_true",
                    help="timepool-dns alone: rebuild time and resident memory (use with "
                         "--servers 100000); writes results-scale.md")
    args = ap.parse_args()
    rnd = random.Random(1)
    work = tempfile.mkdtemp(prefix="tpbench-")
    ctl = os.path.join(args.build, "ctl", "timepoolctl")
    folder = None
    procs = []
    try:
        folder, env, conninfo = make_database(work, args.servers)
        nzones, nservers = load_data(env, conninfo, ctl, args.servers, rnd)
        print("data: %d servers in DNS, %d zones" % (nservers, nzones))

        tp_port, mport = free_port(), free_port()
        geo_off = ["--set", "dns.geo=false"]
        tp = start_timepool(args.build, work, conninfo, tp_port, mport,
                            extra=geo_off if args.geo == "off" else ())
        procs.append(tp)
        snap_text = open(os.path.join(work, "snapshot")).read()
        names = published_names(snap_text)
        qfile = os.path.join(work, "queries.txt")
        qnames = [n for n in names if geo_routed(n)] if args.mix == "geo" else names
        with open(qfile, "w") as f:
            for _ in range(20000):
                f.write("%s A\n" % rnd.choice(qnames))
        print("names with servers: %d; query file: 20000 lines" % len(names))
        if args.scale:
            scale_run(tp, mport, work, qfile, args, nservers, nzones, conninfo)
            return
        servers = [tp]
        if args.geo == "both":
            servers.append(start_timepool(args.build, work, conninfo, free_port(), free_port(),
                                          name="timepool-nogeo", extra=geo_off))
        if args.baseline:
            servers.append(start_timepool(args.baseline, work, conninfo, free_port(), free_port(),
                                          name="timepool-before",
                                          extra=geo_off if args.geo == "off" else ()))
        procs.extend(servers[1:])
        rebuild, build, _ = measure_rebuilds([(tp, mport, os.path.join(work, "timepool.log"))],
                                             args.rebuilds)["timepool"]
        servers += start_peers(work, names, snap_text, tp_port, procs)
        med = run_rounds(servers, qfile, args)
        rss = {s.name: rss_mb(s.pid) for s in servers}
        text = "\n".join(report(med, rss, servers, args, [
            "Snapshot: %d servers in DNS, %d zones, %d names with servers; timepool-dns RSS %.1f MB" % (
                nservers, nzones, len(names), rss["timepool"]),
            "Rebuild (database read + build + publish), median of %d: %.1f ms; build alone: median %.1f ms" % (
                args.rebuilds, rebuild, build),
            "Median of %d interleaved rounds of %d s each (dnsperf -c 4 -q 500 on CPU 1, server on CPU 0); "
            "latency from a 1 s run at 20,000 qps per round; query mix: %s (%d names)." % (
                args.rounds, args.seconds, args.mix, len(qnames))]))
        print("\n" + text)
        write_results("results.md", text)
    finally:
        for p in procs:
            p.stop()
        if folder:
            subprocess.run([CLUSTER, "stop", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.environ.get("KEEP"):
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
