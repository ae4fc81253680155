"""Statistics of an edge on a hot standby go to the primary, survive its absence on disk and an
edge restart, and count exactly once. The edge reads the standby; its statistics conninfo names
both nodes with target_session_attrs=read-write, so only the primary takes them. The primary is
stopped while the edge counts queries; the edge is restarted in between (its batches wait in the
spool folder); the primary comes back; every (minute) sum in dns_query_counts equals what was
sent. Then spool files of batches already applied are put back (a crash between the commit and
the unlink) and a restarted edge delivers them again: the flush log recognizes them and nothing
counts twice."""
import glob
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dns"))
from dnstest import Database, Dns, check, fail  # noqa: E402
from replica import Replicated  # noqa: E402
import tptest  # noqa: E402

sent = {}  # Unix minute -> queries answered


def ask(edge, n):
    for _ in range(n):
        # Stay clear of a minute boundary, so the test and the edge agree on the minute.
        while time.time() % 60 > 59.5:
            time.sleep(0.1)
        m = int(time.time() // 60)
        if not edge.addresses("no.pool.example"):
            fail("no answer from the edge")
        sent[m] = sent.get(m, 0) + 1


def counted(db):
    rows = db.q("SELECT (extract(epoch FROM minute)::bigint / 60), sum(count)::bigint "
                "FROM dns_query_counts GROUP BY 1")
    return {int(m): int(c) for m, c in rows}


def main():
    cluster = Replicated(standbys=1)
    db = None
    edge = None
    work = tempfile.mkdtemp(prefix="tp-spool-")
    spool = os.path.join(work, "spool")
    try:
        db = Database(env=cluster.primary.env())
        db.add_server("192.0.2.1", "no", 1500)
        tptest.wait_until(lambda: _replayed(cluster, db), 20, "standby replay")
        p, s = cluster.primary.port, cluster.standbys[0].port
        stats_ci = ("dbname=%s host=127.0.0.1,127.0.0.1 port=%d,%d user=postgres "
                    "target_session_attrs=read-write connect_timeout=2" % (db.name, s, p))
        args = ["--set", "dns.stats_conninfo=" + stats_ci, "--set", "dns.stats_spool=" + spool,
                "--set", "dns.stats_flush_interval=1", "--set", "dns.stats_instance=edge1"]

        def start_edge():
            return Dns(Replicated.conninfo(cluster.standbys[0], db.name), args, workdir=work)

        edge = start_edge()
        ask(edge, 20)
        cluster.primary.pg_ctl("stop")
        ask(edge, 30)
        edge.close()  # at shutdown everything counted is sealed; no primary: it stays spooled
        files = glob.glob(os.path.join(spool, "*.batch"))
        check(len(files) >= 1, "the batches wait in the spool folder (%d files)" % len(files))
        backup = os.path.join(work, "applied-copies")
        os.makedirs(backup)
        for f in files:
            shutil.copy(f, backup)

        edge = start_edge()
        check("batches from %s to deliver" % spool in edge.log_text(),
              "the restarted edge loads the spooled batches")
        ask(edge, 40)
        time.sleep(2.5)  # flushes fail meanwhile: nothing may be lost or doubled by them
        cluster.primary.pg_ctl("start")
        db.conn = db.connect()  # the old connection died with the primary
        tptest.wait_until(lambda: not glob.glob(os.path.join(spool, "*.batch")), 30,
                          "spool delivered")
        edge.close()  # the current minute's counts go at shutdown
        got = counted(db)
        print("sent per minute:", sorted(sent.items()), "counted:", sorted(got.items()))
        check(got == sent, "each minute counted exactly once after outage and restart")
        check(not glob.glob(os.path.join(spool, "*.batch")), "the spool folder is empty")
        instances = db.one("SELECT count(DISTINCT instance_id) FROM dns_stats_flushes")
        check(instances == 2, "two runs of the edge wrote (%s)" % instances)

        # A crash after the commit and before the unlink: the same files again.
        for f in glob.glob(os.path.join(backup, "*.batch")):
            shutil.copy(f, spool)
        edge = start_edge()
        tptest.wait_until(lambda: not glob.glob(os.path.join(spool, "*.batch")), 30,
                          "re-sent spool")
        dup = [l for l in edge.metrics().splitlines()
               if l.startswith("timepool_dns_stats_batches_duplicate_total")]
        check(dup and float(dup[0].split()[-1]) >= 1, "re-sent batches are recognized (%s)" % dup)
        edge.close()
        check(counted(db) == sent, "and still counted once")
        edge = None
    finally:
        if edge:
            edge.kill()
        if db:
            try:
                cluster.primary.pg_ctl("start")
            except Exception:
                pass
            db.close()
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)


def _replayed(cluster, db):
    import psycopg2
    try:
        c = psycopg2.connect(Replicated.conninfo(cluster.standbys[0], db.name))
        with c.cursor() as cur:
            cur.execute("SELECT count(*) FROM servers")
            n = cur.fetchone()[0]
        c.close()
        return n == 1
    except psycopg2.Error:
        return False


if __name__ == "__main__":
    main()
