"""etcd (one member) and PostgreSQL nodes under Patroni, each node a host of its own (a network
namespace with its own address, tests/support/netns.py), for the failover drill and its benchmark. Every
program runs inside its host, on the ports a real host uses (PostgreSQL 5432, Patroni's REST
API 8008, etcd 2379/2380).

The settings follow deploy/multinode/patroni-db1.yml with the timing shrunk so a failover
takes seconds: ttl 5, loop_wait 1, retry_timeout 2 (on this kind of machine: 4.4-5.4 s from a
SIGKILL to a writable replica; 3/1/1 never fails over). synchronous_mode is on, as in
production: a commit on the primary (a web change, a statistics batch) waits until the standby
has it, so a failover loses nothing that was acknowledged; with the standby gone, Patroni lets
the primary commit alone (synchronous_mode_strict is off).

Needs root (Patroni and PostgreSQL run as the postgres user) and the Debian packages patroni,
etcd-server and etcd-client."""
import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

BINDIR = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]


def http_status(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def wait_until(pred, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


PATRONI_YML = """\
scope: {scope}
name: {name}
log:
  level: WARNING
restapi:
  listen: {host}:{rest_port}
  connect_address: {host}:{rest_port}
etcd3:
  hosts: {etcd_addr}:2379
bootstrap:
  dcs:
    ttl: 5
    loop_wait: 1
    retry_timeout: 2
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_log_hints: 'on'
        max_connections: 60
        fsync: 'off'
        synchronous_commit: 'on'
  initdb:
  - encoding: UTF8
  - locale: C.UTF-8
  - data-checksums
postgresql:
  listen: {host}:{pg_port}
  connect_address: {host}:{pg_port}
  data_dir: {data}
  bin_dir: {bindir}
  pgpass: {dir}/pgpass
  authentication:
    superuser:
      username: postgres
      password: drill-superuser
    replication:
      username: replicator
      password: drill-replication
    rewind:
      username: postgres
      password: drill-superuser
  parameters:
    unix_socket_directories: '{dir}'
  pg_hba:
  - local all all trust
  - host all all 127.0.0.0/8 trust
  - host replication all 127.0.0.0/8 trust
"""


class Node:
    def __init__(self, cluster, index, where):
        self.name = "pg%d" % index
        self.where = where  # the netns.Host it runs in
        self.host = where.addr
        self.dir = os.path.join(cluster.root, self.name)
        self.data = os.path.join(self.dir, "data")
        self.pg_port = 5432
        self.rest_port = 8008
        os.makedirs(self.dir)
        self.config = os.path.join(self.dir, "patroni.yml")
        with open(self.config, "w") as f:
            f.write(PATRONI_YML.format(scope=cluster.scope, name=self.name, host=self.host,
                                       rest_port=self.rest_port, etcd_addr=cluster.etcd_host.addr,
                                       pg_port=self.pg_port, data=self.data, bindir=BINDIR,
                                       dir=self.dir))
        subprocess.run(["chown", "-R", "postgres:postgres", self.dir], check=True)
        self.patroni = None
        self.log = None

    def start(self):
        self.log = open(os.path.join(self.dir, "patroni.log"), "ab")
        # setpriv, not runuser: the pid is Patroni's own, so SIGKILL reaches it.
        self.patroni = subprocess.Popen(
            self.where.cmd(["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups",
                            "--", "patroni", self.config]), stdout=self.log, stderr=subprocess.STDOUT,
            cwd=self.dir, env=dict(os.environ, HOME=self.dir))

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def crash(self):
        """SIGKILL to Patroni and to the postmaster (not Patroni's child): the host is gone."""
        pm = self.postmaster_pid()
        if self.patroni:
            self.patroni.send_signal(signal.SIGKILL)
            self.patroni.wait()
            self.patroni = None
        if pm:
            try:
                os.kill(pm, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self):
        if self.patroni and self.patroni.poll() is None:
            self.patroni.terminate()
            try:
                self.patroni.wait(20)
            except subprocess.TimeoutExpired:
                self.crash()
        self.patroni = None
        pm = self.postmaster_pid()
        if pm:
            subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(BINDIR, "pg_ctl"),
                            "-D", self.data, "-m", "immediate", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.log:
            self.log.close()
            self.log = None

    def role(self):
        """'primary', 'replica' or None, from Patroni's REST API."""
        if http_status("http://%s:%d/primary" % (self.host, self.rest_port)) == 200:
            return "primary"
        if http_status("http://%s:%d/replica" % (self.host, self.rest_port)) == 200:
            return "replica"
        return None

    def conninfo(self, dbname):
        return "dbname=%s host=%s port=%d user=postgres" % (dbname, self.host, self.pg_port)


class PatroniCluster:
    """etcd on `etcd_host`, a PostgreSQL node under Patroni on each of `hosts` (netns.Host)."""

    def __init__(self, hosts, etcd_host):
        self.scope = "tpdrill" + secrets.token_hex(3)
        self.root = "/tmp/tp-drill-" + secrets.token_hex(4)
        os.makedirs(self.root)
        os.chmod(self.root, 0o755)
        self.etcd_host = etcd_host
        self.etcd = None
        self.nodes = [Node(self, i + 1, h) for i, h in enumerate(hosts)]

    def start(self, timeout=90):
        etcd_dir = os.path.join(self.root, "etcd")
        self.etcd_log = open(os.path.join(self.root, "etcd.log"), "ab")
        a = self.etcd_host.addr
        self.etcd = subprocess.Popen(
            self.etcd_host.cmd(
                ["etcd", "--name", "drill", "--data-dir", etcd_dir,
                 "--listen-client-urls", "http://%s:2379" % a,
                 "--advertise-client-urls", "http://%s:2379" % a,
                 "--listen-peer-urls", "http://%s:2380" % a,
                 "--initial-advertise-peer-urls", "http://%s:2380" % a,
                 "--initial-cluster", "drill=http://%s:2380" % a,
                 "--unsafe-no-fsync"]),
            stdout=self.etcd_log, stderr=subprocess.STDOUT)
        wait_until(lambda: http_status("http://%s:2379/health" % a) == 200, 20, "etcd")
        first = self.nodes[0]
        first.start()
        wait_until(lambda: first.role() == "primary", timeout, "the first node to lead")
        for n in self.nodes[1:]:
            n.start()
        for n in self.nodes[1:]:
            wait_until(lambda: n.role() == "replica" and self.streaming(n), timeout,
                       "%s to stream" % n.name)

    def primary(self):
        for n in self.nodes:
            if n.role() == "primary":
                return n
        return None

    def writer_conninfo(self, dbname, extra="connect_timeout=2"):
        return ("dbname=%s host=%s port=%s user=postgres target_session_attrs=read-write %s"
                % (dbname, ",".join(n.host for n in self.nodes),
                   ",".join(str(n.pg_port) for n in self.nodes), extra))

    def streaming(self, standby):
        """The primary lists `standby` in pg_stat_replication as streaming."""
        p = self.primary()
        if not p:
            return False
        r = subprocess.run(["psql", "-X", "-At", "-h", p.host, "-p", str(p.pg_port), "-U",
                            "postgres", "-d", "postgres", "-c",
                            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' "
                            "AND application_name = '%s'" % standby.name],
                           capture_output=True, text=True)
        return r.returncode == 0 and r.stdout.strip() == "1"

    def sync_standby(self):
        """The synchronous standby Patroni chose, from etcd's /sync key (None if none)."""
        p = self.primary()
        if not p:
            return None
        try:
            with urllib.request.urlopen("http://%s:%d/cluster" % (p.host, p.rest_port),
                                        timeout=2) as r:
                members = json.load(r).get("members", [])
        except OSError:
            return None
        for m in members:
            if m.get("role") == "sync_standby":
                return m.get("name")
        return None

    def close(self):
        for n in self.nodes:
            try:
                n.stop()
            except Exception:
                pass
        if self.etcd:
            self.etcd.terminate()
            try:
                self.etcd.wait(10)
            except subprocess.TimeoutExpired:
                self.etcd.kill()
            self.etcd_log.close()
        if os.environ.get("TIMEPOOL_KEEP_DRILL"):
            print("drill folder kept: %s" % self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)
