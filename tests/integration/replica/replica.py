"""A PostgreSQL primary and hot standbys made with pg_basebackup -R, on loopback TCP ports of
their own (the standbys stream from the primary over 127.0.0.1)."""
import contextlib
import glob
import os
import secrets
import shutil
import subprocess

import tptest

BINDIR = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]


def _as_postgres(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


class Node:
    def __init__(self, root, name, port):
        self.dir = os.path.join(root, name)
        self.data = os.path.join(self.dir, "data")
        self.port = port
        os.makedirs(self.dir)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def env(self):
        return dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(self.port), PGUSER="postgres")

    def pg_ctl(self, action):
        """start, stop (fast), crash (immediate: no checkpoint, sessions cut) or promote."""
        cmd = [os.path.join(BINDIR, "pg_ctl"), "-D", self.data, "-w", "-l",
               os.path.join(self.dir, "server.log")]
        if action == "start":
            cmd += ["-o", "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                          "-c max_connections=50" % (self.port, self.dir), "start"]
        elif action == "crash":
            cmd += ["-m", "immediate", "stop"]
        elif action == "promote":
            cmd += ["promote"]
        else:
            cmd += ["-m", "fast", "stop"]
        subprocess.run(_as_postgres(cmd), check=True, stdout=subprocess.DEVNULL)


class Replicated:
    """A primary and `standbys` hot standbys. db_on(node, name) gives a conninfo."""

    def __init__(self, standbys=1):
        self.root = "/tmp/tp-repl-" + secrets.token_hex(4)
        os.makedirs(self.root)
        os.chmod(self.root, 0o755)
        self.nodes = []
        self.primary = Node(self.root, "primary", tptest.free_port(tptest.socket.SOCK_STREAM))
        self.nodes.append(self.primary)
        subprocess.run(_as_postgres([os.path.join(BINDIR, "initdb"), "-D", self.primary.data,
                                     "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                     "--locale=C.UTF-8", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.primary.pg_ctl("start")
        self.standbys = []
        for i in range(standbys):
            n = Node(self.root, "standby%d" % i, tptest.free_port(tptest.socket.SOCK_STREAM))
            subprocess.run(_as_postgres([os.path.join(BINDIR, "pg_basebackup"), "-D", n.data,
                                         "-R", "-X", "stream", "-c", "fast", "--no-sync",
                                         "-h", "127.0.0.1", "-p", str(self.primary.port),
                                         "-U", "postgres"]),
                           check=True, stdout=subprocess.DEVNULL)
            n.pg_ctl("start")
            self.nodes.append(n)
            self.standbys.append(n)

    @staticmethod
    def conninfo(node, dbname):
        return "dbname=%s host=127.0.0.1 port=%d user=postgres" % (dbname, node.port)

    def writer_conninfo(self, dbname):
        """Every node, standbys first, asking for the one that accepts writes."""
        order = self.standbys + [self.primary]
        return ("dbname=%s host=%s port=%s user=postgres target_session_attrs=read-write "
                "connect_timeout=2" % (dbname, ",".join("127.0.0.1" for _ in order),
                                       ",".join(str(n.port) for n in order)))

    def close(self):
        for n in reversed(self.nodes):
            try:
                n.pg_ctl("stop")
            except Exception:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def on_primary(standbys, make_db):
    """A cluster with `standbys` hot standbys and a fresh database on its primary
    (make_db(env=...), dnstest.Database or alike). Yields (cluster, db, daemons): on the way out
    every daemon put in `daemons` is closed, then the database, then the cluster."""
    cluster = Replicated(standbys=standbys)
    db = None
    daemons = []
    try:
        db = make_db(env=cluster.primary.env())
        yield cluster, db, daemons
    finally:
        for d in daemons:
            d.close()
        if db:
            db.close()
        cluster.close()
