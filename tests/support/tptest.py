"""The building blocks every Python integration test uses: paths of the built programs, a fresh
migrated database, a daemon started and stopped with its log kept, waiting for a condition with
a deadline, free ports, a private PostgreSQL cluster, and the two ways a script reports.

Environment (set by ctest for tests that require the fixture "pg", tests/CMakeLists.txt):
PGHOST/PGPORT/PGUSER of the shared test cluster, TIMEPOOL_SOURCE_DIR and TIMEPOOL_BINARY_DIR.

A script reports with check()/fail() (stop at the first failure, exit 1) or, for unittest
classes, with assertions; a test that cannot run where it is started calls skip(), which exits
77: ctest shows it as skipped (SKIP_RETURN_CODE 77) and deploy/test.sh refuses skips as root.
"""
import glob
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TIMEPOOL_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
BIN = os.environ.get("TIMEPOOL_BINARY_DIR", os.path.join(SRC, "build"))
CTL = os.path.join(BIN, "ctl", "timepoolctl")
DNS = os.path.join(BIN, "server", "timepool-dns")
WEB = os.path.join(BIN, "web", "timepool-web")
MONITOR = os.path.join(BIN, "monitor", "timepool-monitor")
MONITOR_API = os.path.join(BIN, "monitor", "timepool-monitor-api")
SKIP_CODE = 77
# Deadlines scale by this factor: the ThreadSanitizer pass of deploy/test.sh runs the same tests
# on instrumented daemons that start and answer several times slower.
SLOWDOWN = float(os.environ.get("TIMEPOOL_TEST_SLOWDOWN", "1"))


# --- reporting ------------------------------------------------------------------------------
def fail(msg):
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)


def skip(why):
    """Ends the test as skipped (exit 77), loudly on both streams."""
    line = "SKIPPED: %s: %s" % (os.path.basename(sys.argv[0]), why)
    print(line, flush=True)
    print(line, file=sys.stderr, flush=True)
    sys.exit(SKIP_CODE)


def require_root(why):
    if os.geteuid() != 0:
        skip("needs root (%s); CI runs as root" % why)


# --- waiting and ports ----------------------------------------------------------------------
class Timeout(AssertionError):
    pass


def wait_until(pred, timeout, what, interval=0.05):
    """Polls pred() until it returns something true; returns the seconds it took. Raises
    Timeout (an AssertionError, so unittest reports it as a failure) after `timeout` s (times
    TIMEPOOL_TEST_SLOWDOWN)."""
    timeout *= SLOWDOWN
    start = time.monotonic()
    while True:
        if pred():
            return time.monotonic() - start
        if time.monotonic() - start >= timeout:
            raise Timeout("%s did not happen within %.1f s" % (what, timeout))
        time.sleep(interval)


def free_port(kind=socket.SOCK_DGRAM, host="127.0.0.1"):
    """A port the kernel just gave out on host (another process may still take it first; prefer
    letting the daemon bind port 0 and reading the port back from its log)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def close_all(*things):
    """Closes each of `things` that is not None, in order (daemons, sockets, databases,
    clusters): the one `finally` of a test script. A failing close does not keep the others
    open; the first error is raised after all were closed."""
    error = None
    for t in things:
        if t is None:
            continue
        try:
            t.close()
        except Exception as e:  # noqa: BLE001 - every resource gets its close
            error = error or e
    if error:
        raise error


def parse_metrics(text):
    """A Prometheus text page as {sample name with labels: value}."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def read_metrics(port, host="127.0.0.1"):
    """GET http://host:port/metrics, parsed with parse_metrics()."""
    import urllib.request
    with urllib.request.urlopen("http://%s:%d/metrics" % (host, port), timeout=5) as r:
        return parse_metrics(r.read().decode())


# --- databases ------------------------------------------------------------------------------
class Database:
    """CREATE DATABASE <prefix><random> on the cluster in `env` (default: this process's PG*
    variables), migrated with timepoolctl; close() drops it."""

    def __init__(self, prefix="tp_", env=None, migrate=True):
        import psycopg2
        self.env = dict(os.environ if env is None else env)
        self.name = prefix + secrets.token_hex(5)
        subprocess.run(["createdb", self.name], check=True, env=self.env)
        if migrate:
            r = subprocess.run([CTL, "--set", "database.conninfo=" + self.conninfo(), "migrate"],
                               env=self.env, capture_output=True, text=True)
            if r.returncode != 0:
                self.close()
                raise RuntimeError("timepoolctl migrate failed: " + r.stdout + r.stderr)
        self.conn = psycopg2.connect(self.conninfo())
        self.conn.autocommit = True

    def conninfo(self):
        e = self.env
        return "dbname={} host={} port={} user={}".format(
            self.name, e["PGHOST"], e.get("PGPORT", "5432"), e.get("PGUSER", "postgres"))

    def connect(self):
        """Another connection (autocommit), e.g. to LISTEN."""
        import psycopg2
        c = psycopg2.connect(self.conninfo())
        c.autocommit = True
        return c

    def sql(self, text, args=None):
        """Runs one statement; returns its rows, or None for a statement without result."""
        with self.conn.cursor() as cur:
            cur.execute(text, args)
            return cur.fetchall() if cur.description else None

    def q(self, text, *args):
        return self.sql(text, args or None)

    def one(self, text, *args):
        rows = self.q(text, *args)
        return rows[0][0] if rows else None

    def ctl(self, *args, stdin=None):
        """Runs timepoolctl against this database; returns the CompletedProcess (text)."""
        return subprocess.run([CTL, "--set", "database.conninfo=" + self.conninfo()] + list(args),
                              input=stdin, env=self.env, capture_output=True, text=True)

    def close(self):
        conn = getattr(self, "conn", None)
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass
        subprocess.run(["dropdb", "--force", "--if-exists", self.name], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Cluster:
    """A PostgreSQL cluster of the test's own (tests/support/pg-cluster.sh), for tests that stop
    and start the database server. env() gives the PG* variables that reach it."""

    SCRIPT = os.path.join(HERE, "pg-cluster.sh")

    def __init__(self):
        self.dir = "/tmp/tp-pg-" + secrets.token_hex(4)   # a unix socket path is short
        subprocess.run([self.SCRIPT, "start", self.dir], check=True, stdout=subprocess.DEVNULL)

    def env(self):
        return dict(os.environ, PGHOST=self.dir, PGPORT="5432", PGUSER="postgres")

    def pg_ctl(self, action):
        bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        cmd = [os.path.join(bindir, "pg_ctl"), "-D", os.path.join(self.dir, "data"), "-w", "-l",
               os.path.join(self.dir, "server.log")]
        if action == "start":
            cmd += ["-o", "-p 5432 -k %s -c listen_addresses='' -c fsync=off" % self.dir, "start"]
        else:
            cmd += ["-m", "fast", "stop"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

    def close(self):
        subprocess.run([self.SCRIPT, "stop", self.dir], stdout=subprocess.DEVNULL)


# --- daemons --------------------------------------------------------------------------------
class Daemon:
    """A program under test, its stdout and stderr in one log file. start() waits until every
    regex of `ready` matches the log (their groups are in self.ready_match, in order); stop()
    sends SIGTERM and, with expect_code set, checks the exit code (a sanitizer report makes it
    non-zero, so a race or a leak fails the test that started the daemon)."""

    def __init__(self, name, args, ready=(), workdir=None, env=None, start_timeout=20,
                 expect_code=0, **popen):
        self.name = name
        self.args = list(args)
        self.ready = list(ready)
        self.dir = workdir or tempfile.mkdtemp(prefix="tp-%s-" % name)
        self.own_dir = workdir is None
        self.env = env
        self.start_timeout = start_timeout
        self.expect_code = expect_code
        self.popen = popen
        self.proc = None
        self.log = None
        self.start()

    def start(self):
        self.log_path = os.path.join(self.dir, "%s-%d.log" % (self.name, int(time.time() * 1000)))
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env, start_new_session=True, **self.popen)
        self.ready_match = []

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s: %s" % (self.name, self.proc.returncode,
                                                             self.log_text()[-3000:]))
            text = self.log_text()
            found = [re.search(r, text) for r in self.ready]
            if all(found):
                self.ready_match = found
                return True
            return False
        try:
            wait_until(up, self.start_timeout, self.name + " start")
        except Timeout:
            self.kill()
            raise RuntimeError("%s did not start: %s" % (self.name, self.log_text()[-3000:]))

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout=15):
        """SIGTERM, then waits; returns the exit code. Raises if it does not stop in time or, with
        expect_code set, exits with another code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout * SLOWDOWN)
            except subprocess.TimeoutExpired:
                self.kill()
                raise RuntimeError("%s did not stop on SIGTERM" % self.name)
        code = self.proc.returncode
        if self.log and not self.log.closed:
            self.log.close()
        if self.expect_code is not None and code != self.expect_code:
            raise RuntimeError("%s exit code %d: %s" % (self.name, code, self.log_text()[-3000:]))
        return code

    def close(self):
        try:
            return self.stop()
        finally:
            if self.own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)


class Chronyd(Daemon):
    """A chronyd serving stratum 2 from its local clock on address:port (default 127.0.0.1 and a
    free port); never touches the system clock (-x). With netns (a network namespace's name) it
    runs inside that namespace, on port 123 unless told otherwise. With serve=False it has no
    `allow` line: it listens on the port and silently drops every client's request."""

    def __init__(self, address="127.0.0.1", port=None, extra_env=None, netns=None, serve=True):
        work = tempfile.mkdtemp(prefix="tp-chrony-")
        os.chmod(work, 0o755)
        sock = os.path.join(work, "sock")
        os.mkdir(sock)
        shutil.chown(sock, "_chrony", "_chrony")
        os.chmod(sock, 0o770)
        self.address = address
        self.port = port or (123 if netns else free_port(socket.SOCK_DGRAM, address))
        conf = os.path.join(work, "chrony.conf")
        with open(conf, "w") as f:
            f.write("port %d\nbindaddress %s\n%slocal stratum 2\n"
                    "cmdport 0\nbindcmdaddress %s/chronyd.sock\npidfile %s/chronyd.pid\n"
                    % (self.port, address, "allow 127.0.0.0/8\n" if serve else "", sock, work))
        env = dict(os.environ, **(extra_env or {}))
        # chronyd exits 0 on SIGTERM; the readiness test is an answered NTP request, not a log
        # line, so `ready` stays empty and start() returns once the process runs.
        args = ["chronyd", "-x", "-d", "-4", "-f", conf]
        if netns:
            args = ["ip", "netns", "exec", netns] + args
        super().__init__("chronyd", args, workdir=work,
                         env=env, expect_code=None)
        self.own_dir = True
        pidfile = os.path.join(work, "chronyd.pid")
        ready = self.answers if serve else (lambda: os.path.exists(pidfile))
        try:
            wait_until(ready, 10, "chronyd %s on %s:%d" % ("answers" if serve else "runs",
                                                            address, self.port), 0.1)
        except Timeout:
            self.close()
            raise

    def answers(self):
        pkt = bytes([0x23]) + bytes(47)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            s.sendto(pkt, (self.address, self.port))
            try:
                data, _ = s.recvfrom(512)
                return len(data) >= 48 and data[1] != 0
            except socket.timeout:
                return False


def ntpsec_binary():
    """The path of an ntpsec ntpd unpacked beside chrony (tests/integration/monitor/
    fetch-ntpsec.sh; Debian's ntpsec package conflicts with chrony, so it is never installed)."""
    script = os.path.join(SRC, "tests", "integration", "monitor", "fetch-ntpsec.sh")
    r = subprocess.run([script, os.path.join(BIN, "ntpsec-cache")], capture_output=True,
                       text=True, check=True)
    return r.stdout.strip()


class Ntpsec(Daemon):
    """ntpsec's ntpd in the network namespace `netns`, serving orphan stratum 4 on address:123
    (an address of that namespace's interfaces; TESTING-NOTES.md "ntpsec as a Kiss-o'-Death
    source"). With kod=True it rate-limits with `restrict default kod limited` and answers a
    client that asks more than about once every 2 s with a RATE kiss-o'-death. It runs
    without CAP_SYS_TIME, so it cannot touch the clock whatever it tries. Ready once it answers
    (a stratum 1-15 reply or a RATE kiss) from the caller's namespace."""

    def __init__(self, ntpd, address, netns, kod=False):
        work = tempfile.mkdtemp(prefix="tp-ntpsec-")
        os.chmod(work, 0o755)
        self.address = address
        conf = os.path.join(work, "ntp.conf")
        with open(conf, "w") as f:
            # ntpd 1.2.2 binds every address it finds unless a rule names it.
            f.write("interface ignore wildcard\ninterface ignore ipv6\n"
                    "interface ignore 127.0.0.1\ninterface listen %s\n"
                    "tos orphan 4 orphanwait 0\ndisable ntp\ndisable kernel\n" % address)
            if kod:
                f.write("restrict default kod limited nomodify noquery\n"
                        "limit average 0.3 burst 4 kod 100\n")
            else:
                f.write("restrict default nomodify noquery\nlimit burst 10000\n")
        args = ["ip", "netns", "exec", netns, "setpriv", "--bounding-set", "-sys_time", "--",
                ntpd, "-n", "-c", conf, "-l", os.path.join(work, "ntpd.log")]
        super().__init__("ntpd", args, workdir=work, expect_code=None)
        self.own_dir = True
        try:
            wait_until(self.answers, 20, "ntpd answers on %s:123" % address, 0.3)
        except Timeout:
            self.close()
            raise

    def answers(self):
        pkt = bytes([0x23]) + bytes(47)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            s.sendto(pkt, (self.address, 123))
            try:
                data, _ = s.recvfrom(512)
            except socket.timeout:
                return False
        return len(data) >= 48 and (1 <= data[1] <= 15 or data[12:16] == b"RATE")
