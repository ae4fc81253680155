"""The failover drill: etcd, two PostgreSQL nodes under Patroni (pg1 on 127.0.0.11, pg2 on
127.0.0.12), a DNS edge reading each node (its own node first, the other as fallback; the
statistics to whichever node accepts writes, spooled on disk meanwhile) and timepool-web on
both nodes with target_session_attrs=read-write. In the middle of normal work (a continuous
query loop on both edges, a writer committing every 100 ms, statistics flushed every second)
the primary's Patroni and postmaster get SIGKILL. The drill shows:
- both edges answer every query of the loop throughout: zero failures (the edge whose
  database vanished answers from its snapshot in memory while it reconnects);
- Patroni promotes the standby; the write outage is measured;
- a change made through the web after the failover reaches both edges' answers within 2 s;
- the old primary's Patroni, started again, rejoins it as a standby (pg_rewind if needed);
- the edges' statistics from before, during and after the failover are counted exactly once
  on the new primary.
Prints one line `drill: {json}` with the measured times (bench/replica/report.py reads it).
Needs root; exits 77 (skipped) without it or without patroni/etcd."""
import json
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "dns"))
sys.path.insert(0, os.path.join(HERE, "..", "web"))
from dnstest import Dns, check, fail  # noqa: E402
import tptest  # noqa: E402
from webtest import Client, WebServer  # noqa: E402

ANSWER_LIMIT = 2.0
SERVERS = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
ADMIN = ("drill-admin@example.org", "drill admin password")


class OnCluster:
    def __init__(self, conninfo):
        self._conninfo = conninfo

    def conninfo(self):
        return self._conninfo


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
                self.failures.append("%s on edge %d at %.1f: %r" % (name, edge.port, time.time(), e))
                return None
            self.sent[m] = self.sent.get(m, 0) + 1
            self.answered += 1
            return set(got)

    def run(self):
        while not self.stop_flag:
            for e in self.edges:
                got = self.ask(e)
                if got is not None and not got:
                    self.failures.append("empty answer from edge %d at %.1f" % (e.port, time.time()))
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

    def outage_around(self, t):
        before = [c for c in self.commits if c <= t]
        after = [c for c in self.commits if c > t]
        if not before or not after:
            return None
        return after[0] - before[-1]


def counted(conninfo):
    import psycopg2
    c = psycopg2.connect(conninfo)
    with c.cursor() as cur:
        cur.execute("SELECT (extract(epoch FROM minute)::bigint / 60), sum(count)::bigint "
                    "FROM dns_query_counts GROUP BY 1")
        got = {int(m): int(n) for m, n in cur.fetchall()}
    c.close()
    return got


def main():
    tptest.require_root("Patroni and PostgreSQL run as the postgres user")
    for prog in ("patroni", "etcd"):
        if not shutil.which(prog):
            tptest.skip("%s is not installed (deploy/install-deps.sh test)" % prog)
    sys.path.insert(0, HERE)
    from patroni_cluster import PatroniCluster, wait_until

    started = time.monotonic()
    cluster = PatroniCluster(nodes=2)
    work = tempfile.mkdtemp(prefix="tp-drill-edges-")
    edges, web, loop, writer = [], None, None, None
    figures = {}
    try:
        cluster.start()
        pg1, pg2 = cluster.nodes
        figures["cluster_start_s"] = round(time.monotonic() - started, 1)
        print("cluster up in %.1f s: pg1 primary, pg2 streaming" % figures["cluster_start_s"])

        env = dict(os.environ, PGHOST=pg1.host, PGPORT=str(pg1.pg_port), PGUSER="postgres")
        db = tptest.Database("tp_drill_", env)
        for a in SERVERS:
            db.sql("INSERT INTO servers (address, country, netspeed, score) "
                   "VALUES (%s, 'no', 1500, 15)", (a,))
        db.sql("CREATE TABLE drill_heartbeat (t timestamptz)")
        r = db.ctl("create-admin", ADMIN[0], "--password-stdin", stdin=ADMIN[1] + "\n")
        check(r.returncode == 0, "an admin account (%s)" % r.stderr.strip())
        writer_ci = cluster.writer_conninfo(db.name)
        db.conn.close()
        wait_until(lambda: cluster.streaming(pg2), 30, "pg2 streaming")

        for n in cluster.nodes:
            spool = os.path.join(work, n.name + "-spool")
            os.makedirs(os.path.join(work, n.name))
            edges.append(Dns(cluster.local_first_conninfo(n, db.name),
                             ["--set", "dns.rebuild_interval=3600",
                              "--set", "dns.standby_poll_ms=250",
                              "--set", "dns.stats_conninfo=" + writer_ci,
                              "--set", "dns.stats_spool=" + spool,
                              "--set", "dns.stats_flush_interval=1",
                              "--set", "dns.stats_instance=edge-" + n.name,
                              "--set", "log.level=info"],
                             workdir=os.path.join(work, n.name)))
        edge1, edge2 = edges
        web = WebServer(OnCluster(writer_ci), {"db_connections": 2})
        admin = Client(web)
        admin.login(*ADMIN)
        check(admin.get("/admin/servers").status == 200, "the admin's page through the web")

        loop = QueryLoop(edges)
        for e in edges:
            check(loop.ask(e) == set(SERVERS), "edge %d answers all servers" % e.port)
        loop.start()
        writer = Writer(writer_ci)
        writer.start()
        time.sleep(4)  # normal work: answers, statistics flushed every second, writes

        # --- the primary's host dies ------------------------------------------------------
        answered_before = loop.answered
        killed = time.monotonic()
        pg1.crash()
        print("pg1: Patroni and postmaster killed (SIGKILL) after %d answers" % answered_before)
        wait_until(lambda: pg2.role() == "primary", 60, "Patroni to promote pg2")
        figures["promoted_s"] = round(time.monotonic() - killed, 2)
        check(True, "Patroni promoted pg2 %.1f s after the kill" % figures["promoted_s"])
        wait_until(lambda: writer.outage_around(killed) is not None, 30, "a commit on pg2")
        figures["write_outage_s"] = round(writer.outage_around(killed), 2)
        check(True, "write outage (last commit on pg1 to first on pg2): %.2f s"
              % figures["write_outage_s"])
        time.sleep(2)  # answers and statistics after the failover

        # --- a change through the web reaches both edges -----------------------------------
        admin.get("/admin/servers")
        import psycopg2
        c = psycopg2.connect(writer_ci)
        with c.cursor() as cur:
            cur.execute("SELECT id FROM servers WHERE address = %s", (SERVERS[2],))
            sid = cur.fetchone()[0]
        c.close()
        r = admin.post("/admin/servers/%d/disable" % sid, {"action": "disable"})
        committed = time.monotonic()
        check(r.status == 303, "the web disables a server on the new primary (%d)" % r.status)
        want = set(SERVERS[:2])
        seen = {}
        while len(seen) < len(edges):
            for e in edges:
                if e.port not in seen and loop.ask(e) == want:
                    seen[e.port] = time.monotonic() - committed
            if time.monotonic() - committed > 10:
                fail("the change is not on every edge after 10 s: %s" % seen)
            time.sleep(0.01)
        figures["change_to_answer_s"] = round(max(seen.values()), 3)
        check(figures["change_to_answer_s"] < ANSWER_LIMIT,
              "the change answers on both edges %.3f s after its commit (limit %.0f s)"
              % (figures["change_to_answer_s"], ANSWER_LIMIT))

        # --- the old primary rejoins ---------------------------------------------------------
        rejoin = time.monotonic()
        pg1.start()
        wait_until(lambda: pg1.role() == "replica" and cluster.streaming(pg1), 90,
                   "pg1 to rejoin as a standby")
        figures["rejoin_s"] = round(time.monotonic() - rejoin, 1)
        check(True, "pg1 rejoined as a standby of pg2 in %.1f s" % figures["rejoin_s"])
        time.sleep(2)

        loop.stop_flag = True
        loop.join()
        writer.stop_flag = True
        writer.join()
        figures["answered"] = loop.answered
        figures["failures"] = len(loop.failures)
        check(not loop.failures, "%d queries, every one answered (failures: %s)"
              % (loop.answered, loop.failures[:5]))
        check(loop.answered > answered_before * 1.5, "the loop kept asking after the kill")
        log1 = edge1.log_text()
        check("database unavailable" in log1 or "connection lost" in log1,
              "edge 1 noticed its database vanish and answered from memory meanwhile")

        # --- statistics: exactly once --------------------------------------------------------
        for e in edges:
            e.close()  # the current minute is sealed and sent at shutdown
        spools = [os.path.join(work, n.name + "-spool") for n in cluster.nodes]
        wait_until(lambda: not any(f.endswith(".batch") for s in spools if os.path.isdir(s)
                                   for f in os.listdir(s)), 30, "the spools to drain")
        got = counted(writer_ci)
        print("answered per minute:", sorted(loop.sent.items()), "counted:", sorted(got.items()))
        check(got == loop.sent, "every answered query counted exactly once, before, during and "
                                "after the failover")
        edges = []
        figures["total_s"] = round(time.monotonic() - started, 1)
        print("drill: " + json.dumps(figures, sort_keys=True))
    finally:
        if loop:
            loop.stop_flag = True
        if writer:
            writer.stop_flag = True
        for e in edges:
            e.kill()
        if web:
            web.stop()
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
