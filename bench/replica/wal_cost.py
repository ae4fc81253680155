#!/usr/bin/env python3
"""WAL bytes per probe result and per statistics minute, measured through the real programs on
a PostgreSQL cluster of its own (nothing else writes there): pg_current_wal_lsn() before and
after, the difference from pg_wal_lsn_diff().

- Probe results: timepool-monitor-api (plain HTTP on loopback) takes BATCHES batches of
  PER_BATCH raw results from one active monitor over SERVERS servers, scores them centrally and
  writes the probe log, the per-monitor score and the pool score, as in production. Measured
  twice: right after a CHECKPOINT (every page touched the first time costs a full-page image,
  as after each checkpoint in production) and again without one (steady state).
- Statistics: timepool-dns counts QUERIES queries over ZONES zones whose answers name
  SERVERS servers, then flushes once (at shutdown): one statistics minute of one edge. The
  figure per row (dns_stats_flushes.query_rows and answer_rows) scales it to the real pool.

Usage (from a configured build):
  flock /tmp/timepool-heavy.lock python3 bench/replica/wal_cost.py [SERVERS] [BATCHES] [PER_BATCH]
Prints one line `wal_cost: {json}` at the end (bench/replica/README.md, OPERATIONS.md)."""
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "dns"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "replica"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "monitor"))
from dnstest import Database, Dns  # noqa: E402
from replica import on_primary  # noqa: E402
import apitest  # noqa: E402

SERVERS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
BATCHES = int(sys.argv[2]) if len(sys.argv) > 2 else 20
PER_BATCH = int(sys.argv[3]) if len(sys.argv) > 3 else 100
COUNTRIES = ["de", "fr", "nl", "gb", "us", "ca", "br", "jp", "au", "za", "in", "se", "no", "pl",
             "it", "es", "ch", "at", "cz", "fi"]


def lsn(db):
    return db.one("SELECT pg_current_wal_lsn()::text")


def wal_since(db, start):
    return int(db.one("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", start))


def probe_results(db, api, key, server_ids, batches, tag):
    """Posts `batches` batches of PER_BATCH results (each for a different server, a good reply
    with a small random offset) and returns the WAL bytes they cost."""
    start = lsn(db)
    n = 0
    for b in range(batches):
        t0 = int((time.time() - 30) * 1e6)
        results = []
        for i in range(PER_BATCH):
            sid = server_ids[(b * PER_BATCH + i) % len(server_ids)]
            results.append({"server_id": sid, "started_us": t0 + i * 1000,
                            "clock": {"synchronized": True, "est_error_s": 0.0001,
                                      "max_error_s": 0.001},
                            "packets": [{"kind": "reply", "stratum": 2, "leap": 0, "version": 4,
                                         "refid": "7f000001",
                                         "offset_s": random.uniform(-0.01, 0.01),
                                         "delay_s": 0.01}]})
        st, r = apitest.request(api.url + "/v1/results", key,
                                {"batch_id": "%s-%06d" % (tag, b), "results": results})
        if st != 200 or r.get("scored") != PER_BATCH:
            raise SystemExit("batch refused: %s %s" % (st, r))
        n += PER_BATCH
    return wal_since(db, start), n


def add_servers(db):
    """SERVERS servers over COUNTRIES; returns their ids."""
    rows = [("10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255), COUNTRIES[i % len(COUNTRIES)])
            for i in range(1, SERVERS + 1)]
    db.conn.cursor().executemany(
        "INSERT INTO servers (address, country, netspeed, score) VALUES (%s, %s, 1500, 15)", rows)
    return [r[0] for r in db.q("SELECT id FROM servers ORDER BY id")]


def measure_probes(db, daemons, ids, out):
    """Probe results through the monitor API: WAL bytes each after a checkpoint and steady."""
    r = db.ctl("monitor", "add", "walmon", "--status", "active")
    key = [l.split(" ", 1)[1] for l in r.stdout.splitlines() if l.startswith("key: ")][0]
    db.q("UPDATE monitors SET address = '198.51.100.7' WHERE name = 'walmon'")
    # A monitor with an address submits only for the servers the selector paired it with; one
    # run reviews up to review_batch new servers, so run it until every server is paired.
    for _ in range(1 + SERVERS // 1000):
        db.q("SELECT select_monitors()")
        if db.q("SELECT count(*) FROM server_monitors sm JOIN monitors m ON m.id = sm.monitor_id "
                "WHERE m.name = 'walmon'")[0][0] == len(ids):
            break
    else:
        raise SystemExit("the selector did not pair walmon with every server")
    api = apitest.Api(db.conninfo())
    daemons.append(api)
    st, a = apitest.request(api.url + "/v1/assignment", key)
    if st != 200:
        raise SystemExit("assignment: %s %s" % (st, a))
    # Warm up (first scores of each pair are inserts), then measure.
    probe_results(db, api, key, ids, max(1, SERVERS // PER_BATCH), "warm")
    db.q("CHECKPOINT")
    wal, n = probe_results(db, api, key, ids, BATCHES, "cold")
    out["probe_wal_bytes_after_checkpoint"] = round(wal / n)
    wal, n = probe_results(db, api, key, ids, BATCHES, "steady")
    out["probe_wal_bytes_steady"] = round(wal / n)
    out["probe_results_measured"] = n
    print("probe result: %d WAL bytes each right after a checkpoint, %d in steady state "
          "(%d results in batches of %d over %d servers)"
          % (out["probe_wal_bytes_after_checkpoint"], out["probe_wal_bytes_steady"], n,
             PER_BATCH, SERVERS))


def zone_names():
    names = []
    for c in COUNTRIES:
        names += ["%s.pool.example" % c] + ["%d.%s.pool.example" % (i, c) for i in range(4)]
    return names + ["pool.example", "europe.pool.example", "north-america.pool.example"]


def edge_minute(db, daemons, instance, names, check):
    """An edge that has counted A and AAAA queries to every name 6 times (after one query that
    checks it answers, with `check`); its statistics minute is flushed when it stops.
    Returns (queries sent, the edge)."""
    edge = Dns(db.conninfo(), ["--set", "dns.stats_flush_interval=3600",
                               "--set", "dns.stats_instance=" + instance, "--set", "log.level=info"])
    daemons.append(edge)
    if check and not edge.addresses("de.pool.example"):
        raise SystemExit("the edge answers no servers: nothing to count")
    queries = 1
    for rep in range(6):
        for nm in names:
            for qt in ("A", "AAAA"):
                edge.query(nm, qt)
                queries += 1
    return queries, edge


def flush_wal(db, daemons, edge, checkpoint):
    if checkpoint:
        db.q("CHECKPOINT")
    start = lsn(db)
    edge.close()
    daemons.remove(edge)
    return wal_since(db, start)


def measure_stats(db, daemons, out):
    """One statistics minute of one edge, right after a checkpoint and once more (a second
    minute, pages already dirty since the checkpoint)."""
    # A handful of probes leaves a new server's score far below 10 (0.95 * s + 1 per
    # good probe): put every server in DNS so the answers name them, as in the real pool.
    db.q("UPDATE servers SET score = 15")
    names = zone_names()
    queries, edge = edge_minute(db, daemons, "waledge", names, True)
    wal = flush_wal(db, daemons, edge, True)
    qrows, arows = db.q("SELECT sum(query_rows), sum(answer_rows) FROM dns_stats_flushes")[0]
    out.update(stats_flush_wal_bytes=wal, stats_query_rows=int(qrows),
               stats_answer_rows=int(arows), stats_queries=queries)
    _, edge = edge_minute(db, daemons, "waledge2", names, False)
    out["stats_flush_wal_bytes_steady"] = flush_wal(db, daemons, edge, False)
    q2, a2 = db.q("SELECT sum(query_rows), sum(answer_rows) FROM dns_stats_flushes "
                  "WHERE instance_id LIKE 'waledge2%%'")[0]
    per_row = out["stats_flush_wal_bytes_steady"] / (int(q2) + int(a2))
    out["stats_wal_bytes_per_row_steady"] = round(per_row)
    out["stats_wal_bytes_per_row_after_checkpoint"] = round(wal / (int(qrows) + int(arows)))
    print("statistics minute of one edge: %d queries gave %d zone rows and %d server-answer "
          "rows; %d WAL bytes right after a checkpoint, %d in steady state (%d and %d "
          "bytes a row)" % (queries, qrows, arows, wal, out["stats_flush_wal_bytes_steady"],
                           out["stats_wal_bytes_per_row_after_checkpoint"],
                           out["stats_wal_bytes_per_row_steady"]))


def main():
    out = {"servers": SERVERS, "per_batch": PER_BATCH}
    with on_primary(0, Database) as (cluster, db, daemons):
        ids = add_servers(db)
        measure_probes(db, daemons, ids, out)
        measure_stats(db, daemons, out)
        print("wal_cost: " + json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
