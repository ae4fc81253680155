"""The failover drill. Every host is a network namespace of its own with its own address on a
bridge the test creates (tests/support/netns.py) and removes:

  db1 127.79.0.11   Patroni + PostgreSQL pg1, a DNS edge reading pg1 (pg2 as fallback)
  db2 127.79.0.12   Patroni + PostgreSQL pg2, a DNS edge reading pg2 (pg1 as fallback)
                    (the environment of deploy/multinode/systemd/timepool-dns.service.d/edge.conf)
  web 127.79.0.20   etcd, timepool-web, timepool-monitor-api (the conninfo of
                    deploy/multinode/systemd/timepool-monitor-api.service.d/primary.conf)
  mon1 127.79.0.31, mon2 127.79.0.32   a timepool-monitor each, results through the API
  s1-s3 127.79.0.41-43  volunteers: chronyd -x, the servers the edges answer with
  cl  127.79.0.100  this script: the query loop, a writer, the admin's browser

Writers (the web, the monitor API, the edges' statistics, the writer loop) name both nodes
with target_session_attrs=read-write. The edges and the monitor API connect as login users of
their roles (timepool_dns, timepool_monitor). In the middle of normal work (a continuous query loop on
both edges, a writer committing every 100 ms, statistics flushed every second, the monitor
both monitors probing each volunteer every 0.5 s) the primary's Patroni and postmaster get SIGKILL. The drill
shows:
- both edges answer every query of the loop throughout: zero failures (the edge whose
  database vanished answers from its snapshot in memory while it reconnects);
- Patroni promotes the standby; the write outage is measured;
- a change made through the web after the failover reaches both edges' answers within 2 s;
- the old primary's Patroni, started again, rejoins it as a standby (pg_rewind if needed);
- the edges' statistics from before, during and after the failover are counted exactly once
  on the new primary;
- the monitors' results from before, during and after the failover are in the probe log
  exactly once: every batch a monitor sent is recorded once, every result it took is one row,
  and each (volunteer, monitor) score series shows each result applied once, in order.
Prints one line `drill: {json}` with the measured times (bench/replica/run.sh reads it).
Needs root; exits 77 (skipped) without it or without patroni/etcd."""
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "monitor"))
sys.path.insert(0, os.path.join(HERE, "..", "web"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
import apitest  # noqa: E402
import netns  # noqa: E402
import tptest  # noqa: E402
from tptest import check, fail  # noqa: E402

ANSWER_LIMIT = 2.0
HOSTS = {"db1": "127.79.0.11", "db2": "127.79.0.12", "web": "127.79.0.20",
         "mon1": "127.79.0.31", "mon2": "127.79.0.32", "s1": "127.79.0.41", "s2": "127.79.0.42",
         "s3": "127.79.0.43", "cl": "127.79.0.100"}
VOLUNTEERS = ["s1", "s2", "s3"]
MONITORS = ["mon1", "mon2"]
SERVERS = [HOSTS[v] for v in VOLUNTEERS]
SEED_SCORE = 15.0
ADMIN = ("drill-admin@example.org", "drill admin password")
DROP_INS = os.path.join(tptest.SRC, "deploy", "multinode", "systemd")
# The multi-node examples' addresses and the drill's.
EXAMPLE_ADDRESSES = {"192.0.2.11": HOSTS["db1"], "192.0.2.12": HOSTS["db2"],
                     "192.0.2.20": HOSTS["web"]}


# timepool-dns inside a host, on its address, port 53 (tests/support/netns.py).
Edge = netns.Dns


class QueryLoop(threading.Thread):
    """Asks both edges in turn, as fast as one thread does, and counts per (minute) what was
    answered; a timeout or a wrong answer is a failure. Also the test's own queries go through
    ask(), so the minute counts cover every query the edges answered."""

    def __init__(self, edges):
        super().__init__(daemon=True)
        self.edges = edges
        self.lock = threading.Lock()
        self.sent = {}
        self.answered = 0
        self.failures = []
        self.stop_flag = False

    def ask(self, edge, name="no.pool.example"):
        with self.lock:
            # Clear of a minute boundary, so the test and the edge agree on the minute.
            while time.time() % 60 > 59.5:
                time.sleep(0.05)
            m = int(time.time() // 60)
            try:
                got = edge.addresses(name)
            except Exception as e:  # a timeout: dns.exception.Timeout
                self.failures.append("%s on edge %s at %.1f: %r" % (name, edge.addr, time.time(), e))
                return None
            self.sent[m] = self.sent.get(m, 0) + 1
            self.answered += 1
            return set(got)

    def run(self):
        while not self.stop_flag:
            for e in self.edges:
                got = self.ask(e)
                if got is not None and not got:
                    self.failures.append("empty answer from edge %s at %.1f" % (e.addr, time.time()))
            time.sleep(0.005)


class Writer(threading.Thread):
    """Commits one row every 100 ms through the multi-host conninfo; the longest gap between
    two commits around the kill is the write outage."""

    def __init__(self, conninfo):
        super().__init__(daemon=True)
        self.conninfo = conninfo
        self.commits = []
        self.stop_flag = False

    def run(self):
        import psycopg2
        conn = None
        while not self.stop_flag:
            try:
                if conn is None:
                    conn = psycopg2.connect(self.conninfo)
                    conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO drill_heartbeat VALUES (now())")
                self.commits.append(time.monotonic())
            except psycopg2.Error:
                try:
                    if conn is not None:
                        conn.close()
                except psycopg2.Error:
                    pass
                conn = None
            time.sleep(0.1)

    def longest_gap(self, t0, t1):
        """The longest gap between two consecutive commits from before t0 to after t1 (commits
        on the old primary can still land just after t0, while its postmaster dies)."""
        cs = list(self.commits)
        gaps = [b - a for a, b in zip(cs, cs[1:]) if b > t0 and a < t1]
        return max(gaps) if gaps else None


def query(conninfo, text, *args):
    import psycopg2
    c = psycopg2.connect(conninfo)
    try:
        with c.cursor() as cur:
            cur.execute(text, args or None)
            return cur.fetchall()
    finally:
        c.close()


def drop_in(name):
    """The Environment= settings of deploy/multinode/systemd/NAME, with the drill's addresses."""
    env = {}
    with open(os.path.join(DROP_INS, name)) as f:
        for line in f:
            m = re.match(r'Environment="(TIMEPOOL_[A-Z_]+)=(.*)"\s*$', line)
            if m:
                value = m.group(2)
                for a, b in EXAMPLE_ADDRESSES.items():
                    value = value.replace(a, b)
                env[m.group(1)] = value
    return env


def own_database(conninfo, dbname, user):
    """The drill's database, user and sslmode after the drop-in's (libpq takes the last)."""
    return conninfo + " dbname=%s user=%s sslmode=disable" % (dbname, user)


def monitor_api_env(dbname, user):
    env = drop_in("timepool-monitor-api.service.d/primary.conf")
    check("target_session_attrs=read-write" in env.get("TIMEPOOL_DATABASE_CONNINFO", ""),
          "the monitor API's drop-in names every node, read-write only")
    env["TIMEPOOL_DATABASE_CONNINFO"] = own_database(env["TIMEPOOL_DATABASE_CONNINFO"], dbname,
                                                     user)
    return env


def edge_env(node, other, dbname, user):
    """The edge drop-in (written for db1) on `node`: its own node's socket first, then the
    other node; statistics to whichever node is primary; its own instance name."""
    env = {}
    for k, v in drop_in("timepool-dns.service.d/edge.conf").items():
        if k == "TIMEPOOL_DATABASE_CONNINFO":
            v = v.replace("/var/run/postgresql", node.dir).replace(HOSTS["db2"], other.host)
        if k.endswith("_CONNINFO"):
            v = own_database(v, dbname, user)
        env[k] = v.replace("edge-db1", "edge-" + node.where.name)
    check(env["TIMEPOOL_DATABASE_CONNINFO"].startswith("host=%s,%s " % (node.dir, other.host)) and
          "target_session_attrs=read-write" in env["TIMEPOOL_DNS_STATS_CONNINFO"],
          "the edge's drop-in on %s: its own node's socket first, statistics to the primary"
          % node.where.name)
    return env


# --- outside the namespaces ------------------------------------------------------------------
def outer():
    tptest.require_root("network namespaces; Patroni and PostgreSQL run as the postgres user")
    for prog in ("patroni", "etcd"):
        if not shutil.which(prog):
            tptest.skip("%s is not installed (deploy/install-deps.sh test)" % prog)
    for prog in ("ip", "chronyd", "openssl", "setpriv"):
        if not shutil.which(prog):
            fail("%s is missing (deploy/install-deps.sh)" % prog)
    started = time.monotonic()
    net = netns.Network().create()
    try:
        for name, addr in HOSTS.items():
            net.add_host(name, addr)
        print("network: %d hosts on a bridge in %s (%.1f s)"
              % (len(HOSTS), net.switch, time.monotonic() - started), flush=True)
        env = dict(os.environ, TP_DRILL_NET=net.prefix)
        return subprocess.run(net.hosts["cl"].cmd([sys.executable, os.path.abspath(__file__),
                                                   "--inside"]), env=env).returncode
    finally:
        net.close()


# --- inside the client host ------------------------------------------------------------------
class Drill:
    """The drill's programs inside the client host, and its figures. Each step below is one
    phase of the drill; close() stops whatever is still running."""

    def __init__(self):
        from patroni_cluster import PatroniCluster
        net = netns.Network(os.environ["TP_DRILL_NET"])
        self.hosts = {name: net.host(name, addr) for name, addr in HOSTS.items()}
        self.started = time.monotonic()
        self.cluster = PatroniCluster([self.hosts["db1"], self.hosts["db2"]], self.hosts["web"])
        self.work = tempfile.mkdtemp(prefix="tp-drill-edges-")
        os.chmod(self.work, 0o755)
        self.edges, self.volunteers, self.daemons = [], [], []
        self.loop = self.writer = None
        self.monitors = {}  # name: (daemon, spool, monitor id)
        self.figures = {}
        self.passed = False

    def start_cluster(self):
        from patroni_cluster import wait_until
        self.cluster.start()
        self.pg1, self.pg2 = self.cluster.nodes
        self.figures["cluster_start_s"] = round(time.monotonic() - self.started, 1)
        print("cluster up in %.1f s: pg1 primary, pg2 streaming" % self.figures["cluster_start_s"])
        for v in VOLUNTEERS:
            self.volunteers.append(tptest.Chronyd(self.hosts[v].addr, netns=self.hosts[v].ns))
        self.seed_database()
        wait_until(lambda: self.cluster.streaming(self.pg2), 30, "pg2 streaming")

    def seed_database(self):
        """Monitors, servers (scored before by both monitors), an admin, login users of the
        programs' roles."""
        pg1 = self.pg1
        env = dict(os.environ, PGHOST=pg1.host, PGPORT=str(pg1.pg_port), PGUSER="postgres")
        db = tptest.Database("tp_drill_", env)
        self.keys, mids = {}, {}
        for m in MONITORS:
            out = db.ctl("monitor", "add", "drill-" + m, "--status", "active")
            check(out.returncode == 0, "monitor %s registered (%s)" % (m, out.stderr.strip()))
            self.keys[m] = re.search(r"key: ([0-9a-f]+)", out.stdout).group(1)
            mids[m] = db.one("SELECT id FROM monitors WHERE name = %s", "drill-" + m)
        self.mids = mids
        self.sids = {}
        for a in SERVERS:
            self.sids[a] = db.one("INSERT INTO servers (address, country, netspeed, score) "
                                  "VALUES (%s, 'no', 1500, %s) RETURNING id", a, SEED_SCORE)
            # The monitors have scored it before: their results move the scores from there, and
            # the server stays in DNS (a pool score of at least 10) throughout.
            for mid in mids.values():
                db.q("INSERT INTO server_scores (server_id, monitor_id, score) "
                     "VALUES (%s, %s, %s)", self.sids[a], mid, SEED_SCORE)
        db.sql("CREATE TABLE drill_heartbeat (t timestamptz)")
        r = db.ctl("create-admin", ADMIN[0], "--password-stdin", stdin=ADMIN[1] + "\n")
        check(r.returncode == 0, "an admin account (%s)" % r.stderr.strip())
        # Each program as a login user of its own role, as in production.
        self.api_user = "tp_mon_" + secrets.token_hex(4)
        db.q("CREATE ROLE %s LOGIN IN ROLE timepool_monitor" % self.api_user)
        self.edge_user = "tp_dns_" + secrets.token_hex(4)
        db.q("CREATE ROLE %s LOGIN IN ROLE timepool_dns" % self.edge_user)
        self.dbname = db.name
        self.writer_ci = self.cluster.writer_conninfo(db.name)
        db.conn.close()

    def start_edges(self):
        for n, other in ((self.pg1, self.pg2), (self.pg2, self.pg1)):
            d = os.path.join(self.work, n.name)
            os.makedirs(d)
            self.edges.append(Edge(n.where, edge_env(n, other, self.dbname, self.edge_user),
                                   ["--set", "dns.rebuild_interval=3600",
                                    "--set", "dns.stats_spool=" + os.path.join(d, "spool"),
                                    "--set", "dns.stats_flush_interval=1",
                                    "--set", "log.level=info"], d))
        self.edge1 = self.edges[0]

    def start_web(self):
        web_host = self.hosts["web"]
        web = tptest.Daemon("web", web_host.cmd(
            [tptest.WEB, "--set", "database.conninfo=" + self.writer_ci,
             "--set", "web.listen=" + web_host.addr, "--set", "web.port=8080",
             "--set", "web.pool_domain=pool.test", "--set", "web.db_connections=2",
             "--set", "web.metrics_listen=", "--set", "web.secure_cookies=false",
             "--set", "mail.transport=off",
             "--set", "mail.verify_email=false"]),
            workdir=self.work, ready=[r"listening on [0-9.]+:8080"], expect_code=None)
        self.daemons.append(web)
        web.host, web.port = web_host.addr, 8080
        from webtest import Client
        self.admin = Client(web)
        self.admin.login(*ADMIN)
        check(self.admin.get("/admin/servers").status == 200, "the admin's page through the web")

    def start_monitoring(self):
        """The monitor API on the web host, a monitor on each monitor host."""
        from patroni_cluster import wait_until
        web_host = self.hosts["web"]
        ca, cert, key = apitest.make_ca(self.work, ip=web_host.addr)
        api_env = monitor_api_env(self.dbname, self.api_user)
        api_url = "https://" + api_env["TIMEPOOL_MONITOR_API_LISTEN"]
        self.api = tptest.Daemon("monitor-api", web_host.cmd(
            [tptest.MONITOR_API, "--set", "monitor_api.tls_cert=" + cert,
             "--set", "monitor_api.tls_key=" + key, "--set", "monitor_api.metrics_listen=",
             "--set", "monitor_api.interval_ms=500", "--set", "monitor_api.refresh_ms=500",
             # Both monitors probe each server within the 500 ms cycle (the default spacing of
             # 60 s between any two probes of one server would stretch it to minutes).
             "--set", "monitor_api.min_spacing_ms=50",
             "--set", "log.level=info"]),
            workdir=self.work, env=dict(os.environ, **api_env), ready=[r"monitor API on https://"])
        self.daemons.append(self.api)
        for m in MONITORS:
            spool = os.path.join(self.work, m + "-spool")
            self.monitors[m] = (tptest.Daemon("monitor", self.hosts[m].cmd(
                [tptest.MONITOR, "--set", "log.level=debug", "--set", "monitor.key=" + self.keys[m],
                 "--set", "monitor.url=" + api_url, "--set", "monitor.ca_file=" + ca,
                 "--set", "monitor.spool_dir=" + spool, "--set", "monitor.ntp_port=123",
                 "--set", "monitor.new_server_within_ms=100", "--set", "monitor.packets=1",
                 "--set", "monitor.packet_timeout_ms=300",
                 "--set", "monitor.batch_interval_ms=200",
                 "--set", "monitor.trust_local_clock=true", "--set", "monitor.metrics_listen=",
                 "--set", "monitor.request_timeout_ms=1000"]),
                workdir=self.work, ready=[r"probing %d servers" % len(SERVERS)]), spool, self.mids[m])
        probe_rows = lambda: query(self.writer_ci, "SELECT count(DISTINCT monitor_id), count(*) "  # noqa: E731
                                                   "FROM probe_log")[0]
        wait_until(lambda: probe_rows()[0] == len(MONITORS), 20, "every monitor's first results")
        check(True, "the monitors' results arrive through the API (%d so far)" % probe_rows()[1])

    def normal_work(self):
        self.loop = QueryLoop(self.edges)
        for e in self.edges:
            check(self.loop.ask(e) == set(SERVERS), "edge %s answers all servers" % e.addr)
        self.loop.start()
        self.writer = Writer(self.writer_ci)
        self.writer.start()
        time.sleep(4)  # normal work: answers, statistics, probes, writes

    def primary_dies(self):
        from patroni_cluster import wait_until
        self.answered_before = self.loop.answered
        killed = time.monotonic()
        self.killed_wall = time.time()
        self.pg1.crash()
        print("pg1: Patroni and postmaster killed (SIGKILL) after %d answers" % self.answered_before)
        wait_until(lambda: self.pg2.role() == "primary", 60, "Patroni to promote pg2")
        self.figures["promoted_s"] = round(time.monotonic() - killed, 2)
        promoted, self.promoted_wall = time.monotonic(), time.time()
        check(True, "Patroni promoted pg2 %.1f s after the kill" % self.figures["promoted_s"])
        wait_until(lambda: self.writer.commits and self.writer.commits[-1] > promoted, 30, "a commit on pg2")
        self.figures["write_outage_s"] = round(self.writer.longest_gap(killed, promoted), 2)
        check(self.figures["write_outage_s"] >= 1.0,
              "write outage (last commit on pg1 to first on pg2): %.2f s" % self.figures["write_outage_s"])
        time.sleep(2)  # answers, statistics and probes after the failover

    def web_change_reaches_edges(self):
        self.admin.get("/admin/servers")
        sid = self.sids[SERVERS[2]]
        r = self.admin.post("/admin/servers/%d/disable" % sid, {"action": "disable"})
        committed = time.monotonic()
        check(r.status == 303, "the web disables a server on the new primary (%d)" % r.status)
        want = set(SERVERS[:2])
        seen = {}
        while len(seen) < len(self.edges):
            for e in self.edges:
                if e.addr not in seen and self.loop.ask(e) == want:
                    seen[e.addr] = time.monotonic() - committed
            if time.monotonic() - committed > 10:
                fail("the change is not on every edge after 10 s: %s" % seen)
            time.sleep(0.01)
        self.figures["change_to_answer_s"] = round(max(seen.values()), 3)
        check(self.figures["change_to_answer_s"] < ANSWER_LIMIT,
              "the change answers on both edges %.3f s after its commit (limit %.0f s)"
              % (self.figures["change_to_answer_s"], ANSWER_LIMIT))

    def old_primary_rejoins(self):
        from patroni_cluster import wait_until
        rejoin = time.monotonic()
        self.pg1.start()
        wait_until(lambda: self.pg1.role() == "replica" and self.cluster.streaming(self.pg1), 90,
                   "pg1 to rejoin as a standby")
        self.figures["rejoin_s"] = round(time.monotonic() - rejoin, 1)
        check(True, "pg1 rejoined as a standby of pg2 in %.1f s" % self.figures["rejoin_s"])
        time.sleep(2)

    def every_query_answered(self):
        loop = self.loop
        loop.stop_flag = True
        loop.join()
        self.writer.stop_flag = True
        self.writer.join()
        self.figures["answered"] = loop.answered
        self.figures["failures"] = len(loop.failures)
        check(not loop.failures, "%d queries, every one answered (failures: %s)"
              % (loop.answered, loop.failures[:5]))
        check(loop.answered > self.answered_before * 1.5, "the loop kept asking after the kill")
        log1 = self.edge1.log_text()
        check("database unavailable" in log1 or "connection lost" in log1,
              "edge 1 noticed its database vanish and answered from memory meanwhile")

    def statistics_once(self):
        from patroni_cluster import wait_until
        for e in self.edges:
            e.close()  # the current minute is sealed and sent at shutdown
        spools = [os.path.join(self.work, n.name, "spool") for n in self.cluster.nodes]
        wait_until(lambda: not any(f.endswith(".batch") for s in spools if os.path.isdir(s)
                                   for f in os.listdir(s)), 30, "the edges' spools to drain")
        got = {int(m): int(n) for m, n in query(
            self.writer_ci, "SELECT (extract(epoch FROM minute)::bigint / 60), sum(count)::bigint "
                            "FROM dns_query_counts GROUP BY 1")}
        print("answered per minute:", sorted(self.loop.sent.items()), "counted:", sorted(got.items()))
        check(got == self.loop.sent, "every answered query counted exactly once, before, during and "
                                     "after the failover")
        self.edges = []

    def monitor_results_once(self):
        from patroni_cluster import wait_until
        gap = 0.0
        for m, (mon, spool, mid) in sorted(self.monitors.items()):
            wait_until(lambda: not apitest.spooled(spool), 30, "the spool of %s to drain" % m)
            mon.stop()
            check(not apitest.spooled(spool), "%s stopped with nothing left in its spool" % m)
            got = monitor_exactly_once(m, mon.log_text(), self.writer_ci, mid, self.sids,
                                       self.killed_wall, self.promoted_wall)
            gap = max(gap, got.pop("monitor_api_gap_s"))
            for k, v in got.items():
                self.figures[k] = self.figures.get(k, 0) + v  # summed over the monitors
        self.figures["monitor_api_gap_s"] = gap  # the longest
        self.monitors = {}
        check(self.api.running(), "one monitor API process served before, during and after the "
                                  "failover (it followed the primary without a restart)")
        self.api.stop()  # exit status 0: no sanitizer report after the failover either

    def close(self):
        if self.loop:
            self.loop.stop_flag = True
        if self.writer:
            self.writer.stop_flag = True
        for d in self.edges + [m[0] for m in self.monitors.values()] + self.daemons:
            d.kill()
        for v in self.volunteers:
            v.kill()
            v.close()
        self.cluster.close()
        if self.passed and not os.environ.get("TIMEPOOL_KEEP_DRILL"):
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print("the programs' logs are kept in %s" % self.work)


def inside():
    drill = Drill()
    try:
        drill.start_cluster()
        drill.start_edges()
        drill.start_web()
        drill.start_monitoring()
        drill.normal_work()
        drill.primary_dies()
        drill.web_change_reaches_edges()
        drill.old_primary_rejoins()
        drill.every_query_answered()
        drill.statistics_once()
        drill.monitor_results_once()
        drill.figures["total_s"] = round(time.monotonic() - drill.started, 1)
        print("drill: " + json.dumps(drill.figures, sort_keys=True))
        drill.passed = True
    finally:
        drill.close()


def monitor_exactly_once(name, log, conninfo, mid, sids, killed_wall, promoted_wall):
    """Checks a monitor's log against the new primary: the batches it sent, the results it
    took; returns the figures."""
    sent = apitest.batches_sent(log)
    batches = {b: n for b, n in query(conninfo, "SELECT batch_id, results FROM monitor_batches "
                                                "WHERE monitor_id = %s", mid)}
    again = apitest.batches_sent_again(log)
    check(sent and len(set(sent)) == len(sent) and set(sent) == set(batches),
          "%s: every batch it sent is recorded once: %d sent (%d of them acknowledged as "
          "already applied), %d recorded" % (name, len(sent), again, len(batches)))
    rows = dict(query(conninfo, "SELECT server_id, count(*) FROM probe_log WHERE monitor_id = %s "
                                "GROUP BY 1", mid))
    total = sum(rows.values())
    check(sum(batches.values()) == total,
          "%s: its recorded batches hold exactly its %d rows of the probe log" % (name, total))
    for addr, sid in sids.items():
        took = apitest.results_taken(log, sid)
        check(took > 0 and rows.get(sid, 0) == took,
              "%s %s: %d results taken, %d in the probe log"
              % (name, addr, took, rows.get(sid, 0)))
        series = [float(s) for (s,) in query(
            conninfo, "SELECT score FROM probe_log WHERE server_id = %s AND monitor_id = %s "
                      "ORDER BY ts", sid, mid)]
        want = [20 - (20 - SEED_SCORE) * 0.95 ** (i + 1) for i in range(len(series))]
        check(all(abs(a - b) < 1e-3 for a, b in zip(series, want)),
              "%s %s: the score series is 20-5*0.95^n: each result applied once, in order"
              % (name, addr))
        probes = query(conninfo, "SELECT probes FROM server_scores WHERE server_id = %s AND "
                                 "monitor_id = %s", sid, mid)[0][0]
        check(probes == took, "%s %s: server_scores counted each result once" % (name, addr))
    before, during, after = query(
        conninfo, "SELECT count(*) FILTER (WHERE ts < to_timestamp(%s)), "
                  "count(*) FILTER (WHERE ts >= to_timestamp(%s) AND ts < to_timestamp(%s)), "
                  "count(*) FILTER (WHERE ts >= to_timestamp(%s)) "
                  "FROM probe_log WHERE monitor_id = %s",
        killed_wall, killed_wall, promoted_wall, promoted_wall, mid)[0]
    check(before > 0 and during > 0 and after > 0,
          "%s: results from before (%d), during (%d, no primary) and after (%d) the failover"
          % (name, before, during, after))
    back = re.search(r"monitor API is back after ([0-9.]+) s", log)
    check(back is not None, "%s saw the API refuse during the failover and come back (%s s)"
          % (name, back.group(1) if back else "?"))
    return {"monitor_results": total, "monitor_batches": len(batches),
            "monitor_batches_again": again, "monitor_results_during": during,
            "monitor_api_gap_s": float(back.group(1))}


if __name__ == "__main__":
    if "--inside" in sys.argv:
        inside()
    else:
        sys.exit(outer())
