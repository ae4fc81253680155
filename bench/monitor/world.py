"""The database world the central-side benchmarks (ingest.py, selector.py) run in.

A World is a fresh database on the cluster that the PG* variables name, migrated with
timepoolctl, dropped (with the login roles it made) when the `with` block ends. Every bulk
set-up is one set-based statement (generate_series), never a statement per row, so 50,000
servers and 100 monitors take seconds.

  with World(build_dir, "tp_ingest") as w:
      w.add_servers(50000)                  # 25 to a /24, in 10.0.0.0/8
      keys = w.add_monitors(7)              # active, each in a /24 of its own; their API keys
      role = w.login_role("timepool_monitor")
"""
import hashlib
import os
import secrets
import subprocess

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of a process so far, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def psql(db, sql):
    """Runs SQL on database `db`; returns its unaligned output."""
    return subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


class World:
    def __init__(self, build, prefix):
        self.build = build
        self.db = prefix + "_" + secrets.token_hex(4)
        self.roles = []

    def __enter__(self):
        subprocess.run(["createdb", self.db], check=True)
        try:
            subprocess.run([self.ctl(), "--set", "database.conninfo=dbname=" + self.db,
                            "--set", "log.level=warn", "migrate"], check=True, capture_output=True)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["dropdb", "--force", "--if-exists", self.db], capture_output=True)
        for role in self.roles:
            subprocess.run(["psql", "-X", "-q", "-c", "DROP ROLE IF EXISTS %s" % role],
                           capture_output=True)
        return False

    def ctl(self):
        return os.path.join(self.build, "ctl", "timepoolctl")

    def sql(self, text):
        return psql(self.db, text)

    def add_servers(self, n, per_24=25):
        """n servers, `per_24` to a /24 (10.a.b.1 ...), country de; returns their ids in order."""
        self.sql("INSERT INTO servers (address, country) SELECT ('10.' || (i / (256 * %d)) || '.' || "
                 "((i / %d) %% 256) || '.' || (i %% %d + 1))::inet, 'de' FROM generate_series(0, %d) i"
                 % (per_24, per_24, per_24, n - 1))
        return [int(x) for x in self.sql("SELECT id FROM servers ORDER BY id").split()]

    def add_accounts(self, n):
        """n volunteer accounts mon1@example.org ... monN@example.org."""
        self.sql("INSERT INTO accounts (email, password_hash, role) SELECT 'mon' || a || "
                 "'@example.org', 'x', 'volunteer' FROM generate_series(1, %d) a" % n)

    def add_monitors(self, n, status="active", per_account=None):
        """n monitors m1..mN, each in a /24 of its own (198.18.i.1); with `per_account`, that
        many to an account (add_accounts first). Returns their API keys in order (the monitors
        table keeps only each key's SHA-256, as timepoolctl monitor add does)."""
        keys = [secrets.token_hex(16) for _ in range(n)]
        hashes = "ARRAY[%s]" % ", ".join("'%s'" % hashlib.sha256(k.encode()).hexdigest()
                                        for k in keys)
        account = ("(SELECT id FROM accounts WHERE email = 'mon' || ((i + %d) / %d) || "
                   "'@example.org')" % (per_account - 1, per_account)) if per_account else "NULL"
        self.sql("INSERT INTO monitors (name, key_hash, status, address, account_id) "
                 "SELECT 'm' || i, (%s)[i], '%s', ('198.18.' || i || '.1')::inet, %s "
                 "FROM generate_series(1, %d) i" % (hashes, status, account, n))
        return keys

    def pair_all(self):
        """Every monitor paired with every server, as the selector pairs them (schema 0028): a
        monitor with an address probes, and may submit results for, only its pairs. The first 5
        monitors by id are active, the rest testing. Foreign-key triggers are off while seeding."""
        self.sql("SET session_replication_role = replica; "
                 "INSERT INTO server_monitors (server_id, monitor_id, status) "
                 "SELECT s.id, m.id, CASE WHEN m.id <= (SELECT min(id) + 4 FROM monitors) "
                 "THEN 'active' ELSE 'testing' END FROM servers s CROSS JOIN monitors m; "
                 "INSERT INTO server_selection (server_id, reviewed_at, next_review) "
                 "SELECT id, now(), now() + interval '1 hour' FROM servers")

    def login_role(self, member_of):
        """A login role in `member_of` (a program's role from the migrations), dropped at the end."""
        role = self.db + "_" + member_of.replace("timepool_", "")
        psql(self.db, "CREATE ROLE %s LOGIN IN ROLE %s" % (role, member_of))
        self.roles.append(role)
        return role
