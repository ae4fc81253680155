"""The writers follow the primary: timepool-web and timepoolctl are given every node
(standby first) with target_session_attrs=read-write. The test cuts the web's connections,
crashes the primary (pg_ctl stop -m immediate) and promotes the standby, and shows:
- a GET whose pooled connection was cut is answered from a fresh connection (no error page);
- a POST whose connection was cut gets 503 with Retry-After and a "try again" page, and
  writes nothing;
- while no node accepts writes, pages and forms get 503 with Retry-After, and timepoolctl
  exits with status 3 (database unreachable);
- once the standby is promoted the same timepool-web process (no restart) serves pages and
  saves forms on it, and timepoolctl reaches it too."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "web"))
from webtest import Client, WebServer  # noqa: E402
from replica import Replicated  # noqa: E402
import tptest  # noqa: E402
from tptest import check, fail  # noqa: E402


class OnCluster:
    """What WebServer needs of a database: its conninfo (here: every node, the primary wanted)."""

    def __init__(self, conninfo):
        self._conninfo = conninfo

    def conninfo(self):
        return self._conninfo


def ctl(conninfo, *args):
    import subprocess
    return subprocess.run([tptest.CTL, "--set", "database.conninfo=" + conninfo] + list(args),
                          capture_output=True, text=True, timeout=60)


def count_accounts(conninfo):
    r = ctl(conninfo, "accounts", "list", "--json")
    if r.returncode != 0:
        fail("timepoolctl accounts list: %d %s" % (r.returncode, r.stderr))
    import json
    return len(json.loads(r.stdout))


def signup_fields(client, email):
    return {"email": email, "password": "correct horse battery", "role": "volunteer",
            "csrf": client.last_csrf}


def main():
    cluster = Replicated(standbys=1)
    web = None
    try:
        db = tptest.Database("tp_follow_", cluster.primary.env())
        writer = cluster.writer_conninfo(db.name)
        web = WebServer(OnCluster(writer), {"db_connections": 2})
        pid = web.proc.pid
        c = Client(web)
        check(c.get("/").status == 200, "the web reaches the primary through the node list")
        c.signup("before@example.org")
        check(count_accounts(writer) == 1, "timepoolctl finds the primary through the node list")

        # 1. The web's sessions are cut (as a failover cuts them): a GET is answered anyway.
        db.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
               "WHERE datname = %s AND pid <> pg_backend_pid()", (db.name,))
        r = c.get("/zones")
        check(r.status == 200, "a GET on a cut connection is answered from a fresh one (%d)"
              % r.status)
        # ... and a POST on a cut connection asks to try again and writes nothing.
        c.get("/signup")
        db.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
               "WHERE datname = %s AND pid <> pg_backend_pid()", (db.name,))
        r = c.post("/signup", signup_fields(c, "cut@example.org"), csrf=False)
        check(r.status == 503 and r.header("Retry-After") == "5" and "try again" in r.body,
              "a POST on a cut connection: 503, Retry-After, try again (%d %s)"
              % (r.status, r.header("Retry-After")))
        check(db.one("SELECT count(*) FROM accounts WHERE email = 'cut@example.org'") == 0,
              "and nothing of it was written")

        # 2. The primary crashes; the standby is not promoted yet.
        c.get("/signup")
        db.conn.close()
        db.conn = None
        cluster.primary.pg_ctl("crash")
        r = c.get("/")
        check(r.status == 503 and r.header("Retry-After") == "5",
              "no primary: a page is 503 with Retry-After (%d)" % r.status)
        r = c.post("/signup", signup_fields(c, "outage@example.org"), csrf=False)
        check(r.status == 503 and r.header("Retry-After") == "5",
              "no primary: a form is 503 with Retry-After (%d)" % r.status)
        r = ctl(writer, "accounts", "list")
        check(r.returncode == 3 and "cannot reach the database" in r.stderr,
              "no primary: timepoolctl exits 3, database unreachable (%d)" % r.returncode)

        # 3. The standby is promoted: the same web process follows it.
        cluster.standbys[0].pg_ctl("promote")
        promoted = time.monotonic()
        tptest.wait_until(lambda: c.get("/").status == 200, 10, "a page from the new primary")
        check(True, "pages again %.2f s after the promotion" % (time.monotonic() - promoted))
        c.get("/signup")
        r = c.post("/signup", signup_fields(c, "after@example.org"), csrf=False)
        check(r.status == 303, "a form is saved on the new primary (%d)" % r.status)
        check(web.proc.pid == pid and web.running(), "by the same timepool-web process")
        check(count_accounts(writer) == 2,
              "timepoolctl reaches the new primary: the accounts from before and after, "
              "none from the refused forms")
        r = ctl(writer, "monitor", "add", "after-failover")
        check(r.returncode == 0, "timepoolctl writes on the new primary (%s)" % r.stderr.strip())
    finally:
        if web:
            rc = web.stop()
            if rc != 0:
                print("timepool-web exited with %s" % rc)
        cluster.close()


if __name__ == "__main__":
    main()
