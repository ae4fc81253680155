"""PostgreSQL going away does not stop the answers, a restart with PostgreSQL down answers from
the on-disk snapshot, and the server picks the database up again when it returns.

Uses its own cluster (tests/support/pg-cluster.sh on its own folder), never the shared one,
because it stops and starts it."""
import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time

from dnstest import SRC, Database, Dns, check, fail

CLUSTER = os.path.join(SRC, "tests", "support", "pg-cluster.sh")


def pg_ctl(folder, action):
    bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    cmd = [os.path.join(bindir, "pg_ctl"), "-D", os.path.join(folder, "data"), "-w", "-l",
           os.path.join(folder, "server.log")]
    if action == "start":
        cmd += ["-o", "-p 5432 -k %s -c listen_addresses='' -c fsync=off" % folder, "start"]
    else:
        cmd += ["-m", "fast", "stop"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def main():
    folder = "/tmp/tpdns-down-" + secrets.token_hex(4)
    subprocess.run([CLUSTER, "start", folder], check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, PGHOST=folder, PGPORT="5432", PGUSER="postgres")
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

        pg_ctl(folder, "stop")
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
        pg_ctl(folder, "start")
        import psycopg2
        conn = psycopg2.connect(db.conninfo())
        conn.autocommit = True
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
        subprocess.run([CLUSTER, "stop", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
