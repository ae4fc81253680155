"""Commit-to-answer propagation, shared by integration.replica.propagation and
bench/replica/poll_cost.py: a server taken out of DNS and brought back, one change at a time,
and the time from the primary's COMMIT until each edge answers the new set."""
import time

import psycopg2

from replica import Replicated

OUT_SCORE = 5   # below the pool's threshold of 10: the server leaves DNS
IN_SCORE = 15


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def wait_replayed(node, dbname, servers, timeout=20):
    """Waits until the standby `node` has replayed the `servers` rows of database `dbname`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            c = psycopg2.connect(Replicated.conninfo(node, dbname))
            with c.cursor() as cur:
                cur.execute("SELECT count(*) FROM servers")
                n = cur.fetchone()[0]
            c.close()
            if n == servers:
                return
        except psycopg2.Error:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("standby on port %d did not replay the setup" % node.port)
        time.sleep(0.1)


def measure(db, edges, server_id, moving, staying, changes, name="no.pool.example",
            give_up=10.0):
    """Makes `changes` changes (server `server_id`, address `moving`, out and in again; the
    addresses in `staying` stay) and returns the commit-to-answer latencies in seconds, one
    per (change, edge)."""
    latencies = []
    for i in range(changes):
        out = i % 2 == 0
        db.sql("UPDATE servers SET score = %s WHERE id = %s", (OUT_SCORE if out else IN_SCORE,
                                                               server_id))
        committed = time.monotonic()
        want = set(staying) if out else set(staying) | {moving}
        pending = list(edges)
        while pending:
            if time.monotonic() - committed > give_up:
                raise AssertionError("change %d not on edges %s after %.0f s"
                                     % (i, [e.port for e in pending], give_up))
            still = []
            for e in pending:
                if set(e.addresses(name)) == want:
                    latencies.append(time.monotonic() - committed)
                else:
                    still.append(e)
            pending = still
            if pending:
                time.sleep(0.005)
    return latencies
