"""PostgreSQL going away does not stop the answers, a restart with PostgreSQL down answers from
the on-disk snapshot, and the server picks the database up again when it returns.

Uses its own cluster (tests/support/pg-cluster.sh on its own folder), never the shared one,
because it stops and starts it."""
import os
import shutil
import tempfile
import time

from dnstest import Database, Dns, check
from tptest import Cluster


def main():
    cluster = Cluster()
    env = cluster.env()
    work = tempfile.mkdtemp(prefix="tpdns-down-")
    srv = None
    db = None
    try:
        db = Database(env)
        for i in range(10):
            db.add_server("192.0.2.%d" % (i + 1), "pt", 1500)
        srv = Dns(db.conninfo(), ["--set", "dns.rebuild_interval=1"], workdir=work)
        check(len(srv.addresses("pt.pool.example")) == 4, "answers with PostgreSQL up")
        check(os.path.exists(srv.snapshot_file), "the snapshot is on disk")
        db.conn.close()

        cluster.pg_ctl("stop")
        t0 = time.time()
        ok = 0
        while time.time() - t0 < 3:
            if len(srv.addresses("pt.pool.example")) == 4:
                ok += 1
            time.sleep(0.05)
        check(ok > 20, "answers keep coming for 3 s with PostgreSQL stopped (%d answers)" % ok)
        m = srv.metrics()
        check("timepool_dns_db_up 0" in m, "metrics show the database down")
        check("answering from the last good snapshot" in srv.log_text(), "the outage is logged")

        # Restart the daemon while PostgreSQL is down: it answers from the disk copy.
        srv.stop()
        srv.start()
        check("snapshot from file" in srv.log_text(), "started from the on-disk snapshot")
        check(set(srv.addresses("pt.pool.example")) <= {"192.0.2.%d" % (i + 1) for i in range(10)}
              and len(srv.addresses("pt.pool.example")) == 4, "answers after a restart without the database")
        r = srv.query("pool.example", "SOA")
        check(r.rcode() == 0 and r.answer, "SOA served from the disk snapshot")

        # PostgreSQL returns: the server reconnects (with backoff) and follows changes again.
        cluster.pg_ctl("start")
        conn = db.connect()
        with conn.cursor() as cur:
            cur.execute("INSERT INTO servers (address, country, netspeed, score) "
                        "VALUES ('198.51.100.7', 'mt', 1500, 15)")
        conn.close()
        t = srv.wait_for(lambda: srv.addresses("mt.pool.example") == ["198.51.100.7"], 45,
                         "reconnect after the database returned")
        check(True, "database back: new server visible after %.1f s" % t)
        check("timepool_dns_db_up 1" in srv.metrics(), "metrics show the database up again")
    finally:
        if srv:
            srv.close()
        if db:
            try:
                db.close()
            except Exception:
                pass
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
