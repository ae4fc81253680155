"""The world of the multi-site monitoring test (test_sites.py): every site a network namespace
of its own on a bridge the test creates (tests/support/netns.py), all addresses in 127.90/16.

  c     127.90.0.10   the central host: timepool-monitor-api (HTTPS, private CA, as a login
                      user of timepool_monitor), timepool-dns (as one of timepool_dns) and
                      timepool-web (its monitoring upkeep: the selector, freshness, outages; the
                      admin pages). The database is the test cluster, reached by its socket.
  m1-m4 127.90.1-4.31 timepool-monitor, one /24 each
  m5    127.90.5.31   timepool-monitor in the /24 of the volunteer z
  mf    127.90.6.31   timepool-monitor under libfaketime 300 ms ahead, checking itself against
                      h1-h3 as its reference servers
  liar  127.90.7.31   a registered monitor whose key a small client uses to lie (test_sites.py)
  h1-h3 127.90.11-13.11, z 127.90.5.11   chronyd -x, healthy
  w5    127.90.14.11  chronyd -x under libfaketime, 5 s ahead
  sil   127.90.15.11  chronyd -x without `allow`: drops every request (silent)
  rate  127.90.16.11  ntpsec with `restrict default kod limited`: answers RATE
  cl    127.90.0.100  the test itself: DNS queries, the liar, the admin's browser

z's only monitors are m1-m4 (m5 shares its /24, mf submits nothing, the liar lies elsewhere).
The windows are small (monitoring_settings: freshness FRESHNESS_S, outage OUTAGE_S, the
selector's review REVIEW_S; the API: each server every second, 50 ms minimum spacing) so the
test takes a few minutes."""
import os
import re
import secrets
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "web"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
import apitest  # noqa: E402
import netns  # noqa: E402
import tptest  # noqa: E402
from tptest import check  # noqa: E402

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
CENTRAL, CLIENT = "127.90.0.10", "127.90.0.100"
MONITORS = {"m1": "127.90.1.31", "m2": "127.90.2.31", "m3": "127.90.3.31", "m4": "127.90.4.31",
            "m5": "127.90.5.31", "mf": "127.90.6.31"}
LIAR = ("liar", "127.90.7.31")
HONEST = ["m1", "m2", "m3", "m4", "m5"]
VOLUNTEERS = {"h1": "127.90.11.11", "h2": "127.90.12.11", "h3": "127.90.13.11",
              "z": "127.90.5.11", "w5": "127.90.14.11", "sil": "127.90.15.11",
              "rate": "127.90.16.11"}
HEALTHY = ["h1", "h2", "h3", "z"]
BAD = ["w5", "sil", "rate"]
LONELY, LONELY_MONITORS, SAME_24 = "z", ["m1", "m2", "m3", "m4"], "m5"
FRESHNESS_S, OUTAGE_S, REVIEW_S = 20, 8, 2
ADMIN = ("sites-admin@example.org", "sites admin password")
NAME = "pool.example"


def hosts():
    """Every namespace of the world: name -> address."""
    out = {"c": CENTRAL, "cl": CLIENT}
    out.update(MONITORS)
    out.update(VOLUNTEERS)
    return out


def faketime_env(offset):
    # An ASan build checks that its runtime comes first; libfaketime must.
    return dict(os.environ, LD_PRELOAD=FAKETIME_LIB, FAKETIME=offset,
                ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") +
                              ":verify_asan_link_order=0").lstrip(":"))


class Monitor(tptest.Daemon):
    """timepool-monitor at one site; keeps the log of every run (stop, start again)."""

    def __init__(self, host, args, workdir, env=None):
        self.earlier = ""
        self.host = host
        super().__init__("monitor-" + host.name, host.cmd(args), workdir=workdir, env=env,
                         ready=[r"probing \d+ servers"])

    def start(self):
        if self.log is not None:
            self.earlier += self.log_text()
        super().start()

    def all_logs(self):
        return self.earlier + self.log_text()


class Watch(threading.Thread):
    """Asks the DNS server for NAME every 0.25 s throughout the test and, from the database,
    the status of the pairs the test must never see active: every address ever answered and
    every status ever seen are kept."""

    def __init__(self, world):
        super().__init__(daemon=True)
        self.world = world
        self.conn = world.db.connect()
        self.lock = threading.Lock()
        self.answers = []       # (time, set of addresses)
        self.ever = set()
        self.failures = []
        self.pair_status = {}   # (server, monitor) -> set of statuses seen
        self.stop_flag = False

    def run(self):
        w = self.world
        watched = [(LONELY, SAME_24)]
        while not self.stop_flag:
            try:
                got = set(w.dns.addresses(NAME))
                with self.lock:
                    self.answers.append((time.monotonic(), got))
                    self.ever |= got
            except Exception as e:  # a timeout: dns.exception.Timeout
                self.failures.append("%.1f: %r" % (time.time(), e))
            with self.conn.cursor() as cur:
                for v, m in watched:
                    cur.execute("SELECT status FROM server_monitors WHERE server_id = %s AND "
                                "monitor_id = %s", (w.sid[v], w.mid[m]))
                    for (status,) in cur.fetchall():
                        self.pair_status.setdefault((v, m), set()).add(status)
            time.sleep(0.25)

    def since(self, t0):
        """The answers given after monotonic time t0."""
        with self.lock:
            return [a for t, a in self.answers if t >= t0]

    def close(self):
        self.stop_flag = True
        self.join(5)
        self.conn.close()


class World:
    """The sites, started in order by start(); close() stops everything it started."""

    def __init__(self, prefix):
        self.net = netns.Network(prefix)
        self.hosts = {n: self.net.host(n, a) for n, a in hosts().items()}
        self.work = tempfile.mkdtemp(prefix="tp-sites-")
        os.chmod(self.work, 0o755)
        self.db = tptest.Database("tp_sites_")
        self.volunteers, self.daemons = [], []
        self.monitors = {}
        self.keys, self.mid, self.sid = {}, {}, {}
        self.api = self.dns = self.web = self.watch = None

    def addr(self, name):
        return hosts()[name] if name in hosts() else LIAR[1]

    def start(self):
        self.start_volunteers()
        self.setup_database()
        self.start_central()
        for name in MONITORS:
            self.start_monitor(name)
        self.watch = Watch(self)
        self.watch.start()

    def start_volunteers(self):
        h = self.hosts
        for v in ("h1", "h2", "h3", "z"):
            self.volunteers.append(tptest.Chronyd(h[v].addr, netns=h[v].ns))
        self.volunteers.append(tptest.Chronyd(h["w5"].addr, netns=h["w5"].ns,
                                              extra_env=faketime_env("+5s")))
        self.volunteers.append(tptest.Chronyd(h["sil"].addr, netns=h["sil"].ns, serve=False))
        self.volunteers.append(tptest.Ntpsec(tptest.ntpsec_binary(), h["rate"].addr,
                                             h["rate"].ns, kod=True))
        check(True, "volunteers: chronyd at h1 h2 h3 z, 5 s ahead at w5, silent at sil; "
                    "ntpsec sending RATE at rate")

    def setup_database(self):
        db = self.db
        for name in list(MONITORS) + [LIAR[0]]:
            out = db.ctl("monitor", "add", name, "--status", "active")
            check(out.returncode == 0, "monitor %s registered (%s)" % (name, out.stderr.strip()))
            self.keys[name] = re.search(r"key: ([0-9a-f]+)", out.stdout).group(1)
            out = db.ctl("monitor", "set-address", name, self.addr(name))
            check(out.returncode == 0, "monitor %s probes from %s" % (name, self.addr(name)))
            self.mid[name] = db.one("SELECT id FROM monitors WHERE name = %s", name)
        for v, a in VOLUNTEERS.items():
            self.sid[v] = db.one("INSERT INTO servers (address, country, netspeed) "
                                 "VALUES (%s, 'de', 1500) RETURNING id", a)
        # Settled servers are reviewed by the selector every REVIEW_S (not every 10 minutes).
        db.q("UPDATE monitoring_settings SET freshness_window = make_interval(secs => %s), "
             "outage_after = make_interval(secs => %s), review_interval = make_interval(secs => %s)",
             FRESHNESS_S, OUTAGE_S, REVIEW_S)
        r = db.ctl("create-admin", ADMIN[0], "--password-stdin", stdin=ADMIN[1] + "\n")
        check(r.returncode == 0, "an admin account (%s)" % r.stderr.strip())

    def role_conninfo(self, role):
        user = "tp_%s_%s" % (role.split("_")[1][:3], secrets.token_hex(4))
        self.db.q("CREATE ROLE %s LOGIN IN ROLE %s" % (user, role))
        return re.sub(r"user=\S+", "user=" + user, self.db.conninfo())

    def start_central(self):
        c = self.hosts["c"]
        self.ca, cert, key = apitest.make_ca(self.work, ip=CENTRAL)
        self.api_url = "https://%s:8443" % CENTRAL
        self.api = tptest.Daemon("monitor-api", c.cmd(
            [tptest.MONITOR_API, "--set", "database.conninfo=" + self.role_conninfo("timepool_monitor"),
             "--set", "monitor_api.listen=%s:8443" % CENTRAL,
             "--set", "monitor_api.tls_cert=" + cert, "--set", "monitor_api.tls_key=" + key,
             "--set", "monitor_api.metrics_listen=%s:9126" % CENTRAL,
             "--set", "monitor_api.interval_ms=1000", "--set", "monitor_api.refresh_ms=500",
             "--set", "monitor_api.min_spacing_ms=50", "--set", "log.level=info"]),
            workdir=self.work, ready=[r"monitor API on https://"])
        self.daemons.append(self.api)
        self.dns = netns.Dns(c, {"TIMEPOOL_DATABASE_CONNINFO": self.role_conninfo("timepool_dns")},
                             ["--set", "dns.rebuild_interval=2", "--set", "log.level=info",
                              "--set", "dns.stats_spool=" + os.path.join(self.work, "dns-spool")],
                             self.work, metrics_listen="%s:9153" % CENTRAL)
        self.daemons.append(self.dns)
        self.web = tptest.Daemon("web", c.cmd(
            [tptest.WEB, "--set", "database.conninfo=" + self.db.conninfo(),
             "--set", "web.listen=" + CENTRAL, "--set", "web.port=8080",
             "--set", "web.pool_domain=pool.test", "--set", "web.db_connections=2",
             "--set", "web.metrics_listen=", "--set", "web.secure_cookies=false",
             "--set", "web.monitoring_upkeep_seconds=1",
             "--set", "mail.transport=off", "--set", "mail.verify_email=false"]),
            workdir=self.work, ready=[r"listening on [0-9.]+:8080"], expect_code=None)
        self.web.host, self.web.port = CENTRAL, 8080
        self.daemons.append(self.web)
        check(True, "central host: monitor API (HTTPS), DNS, web with its monitoring upkeep")

    def start_monitor(self, name):
        h = self.hosts[name]
        args = [tptest.MONITOR, "--set", "log.level=debug", "--set", "monitor.key=" + self.keys[name],
                "--set", "monitor.url=" + self.api_url, "--set", "monitor.ca_file=" + self.ca,
                "--set", "monitor.spool_dir=" + os.path.join(self.work, name + "-spool"),
                "--set", "monitor.ntp_port=123", "--set", "monitor.new_server_within_ms=100",
                "--set", "monitor.packets=1", "--set", "monitor.packet_timeout_ms=300",
                "--set", "monitor.batch_interval_ms=200", "--set", "monitor.trust_local_clock=true",
                "--set", "monitor.metrics_listen=%s:9124" % h.addr,
                "--set", "monitor.request_timeout_ms=1000"]
        env = None
        if name == "mf":
            refs = ",".join("%s:123" % VOLUNTEERS[v] for v in ("h1", "h2", "h3"))
            args += ["--set", "monitor.reference_servers=" + refs,
                     "--set", "monitor.reference_interval_ms=1000",
                     "--set", "monitor.reference_max_offset_ms=10"]
            env = faketime_env("+0.3")
        self.monitors[name] = Monitor(h, args, self.work, env)

    def spool(self, name):
        return os.path.join(self.work, name + "-spool")

    def in_dns(self, queries=16):
        """The names of the volunteers DNS answers with, over `queries` queries (4 per answer)."""
        by_addr = {a: v for v, a in VOLUNTEERS.items()}
        got = set()
        for _ in range(queries):
            got |= set(self.dns.addresses(NAME))
        return sorted(by_addr.get(a, a) for a in got)

    def close(self, keep):
        tptest.close_all(self.watch)
        for d in list(self.monitors.values()) + self.daemons:
            d.kill()
        for v in self.volunteers:
            v.kill()
            v.close()
        self.db.close()
        if keep:
            print("the programs' logs are kept in %s" % self.work)
        else:
            import shutil
            shutil.rmtree(self.work, ignore_errors=True)
