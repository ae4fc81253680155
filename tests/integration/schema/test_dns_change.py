"""The DNS change counter (schema/0012, 0027) against a real PostgreSQL.

A transaction that changes DNS answers moves dns_change.counter exactly once, however many rows
it changes: a bulk write of n servers updated the one counter row n times (and more through the
memberships' statement triggers), each update walking the versions the earlier ones left, so
the time grew with n squared. Standbys still see every change (a committed transaction moves
the counter), a rolled back savepoint takes its bump back, and NOTIFY still arrives."""
import os
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import tptest  # noqa: E402
from tptest import check  # noqa: E402

N = 2000


def main():
    db = tptest.Database("tp_dnschange_")
    listen = None
    try:
        def counter():
            return db.one("SELECT counter FROM dns_change")

        listen = db.connect()
        listen.cursor().execute("LISTEN timepool_dns")

        # One statement adding N servers in DNS: one bump.
        before = counter()
        t0 = time.monotonic()
        db.q("INSERT INTO servers (address, country, netspeed, score) "
             "SELECT ('10.1.' || (i / 256) || '.' || (i %% 256))::inet, 'de', 1500, 15 "
             "FROM generate_series(1, %s) i", N)
        took = time.monotonic() - t0
        check(counter() == before + 1, "a statement adding %d servers bumps the counter once "
              "(moved by %d)" % (N, counter() - before))
        print("%d servers in one statement: %.2f s" % (N, took))

        # Several statements in one transaction: still one bump.
        before = counter()
        conn = db.connect()
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute("UPDATE servers SET netspeed = 3000 WHERE address = '10.1.0.1'")
            cur.execute("UPDATE servers SET netspeed = 6000 WHERE address = '10.1.0.2'")
            cur.execute("UPDATE servers SET score = 0 WHERE address = '10.1.0.3'")
        conn.commit()
        check(counter() == before + 1, "three changes in one transaction: one bump (moved by %d)"
              % (counter() - before))

        # Each transaction moves it: a standby polling the counter sees every commit.
        before = counter()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("UPDATE servers SET netspeed = 12000 WHERE address = '10.1.0.4'")
            cur.execute("UPDATE servers SET netspeed = 25000 WHERE address = '10.1.0.5'")
        check(counter() == before + 2, "two transactions: two bumps (moved by %d)"
              % (counter() - before))

        # A savepoint rolled back takes its bump back; a later change in the same transaction
        # bumps again.
        before = counter()
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute("SAVEPOINT a")
            cur.execute("UPDATE servers SET netspeed = 50000 WHERE address = '10.1.0.6'")
            cur.execute("ROLLBACK TO SAVEPOINT a")
            cur.execute("UPDATE servers SET netspeed = 100000 WHERE address = '10.1.0.7'")
        conn.commit()
        check(counter() == before + 1, "a rolled back savepoint, then a change: one bump (moved "
              "by %d)" % (counter() - before))
        conn.close()

        # A change that leaves DNS as it was does not bump.
        before = counter()
        db.q("UPDATE servers SET score = 16 WHERE address = '10.1.0.8'")
        check(counter() == before, "a score change within the pool does not bump")

        # NOTIFY arrives as before.
        got = []
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            if select.select([listen], [], [], 0.2)[0]:
                listen.poll()
                while listen.notifies:
                    got.append(listen.notifies.pop(0).payload)
        check("servers" in got, "NOTIFY timepool_dns 'servers' still sent (%s)" % got[:5])
    finally:
        if listen is not None:
            listen.close()
        db.close()
    print("PASS")


if __name__ == "__main__":
    main()
