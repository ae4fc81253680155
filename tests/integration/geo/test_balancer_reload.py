"""The balancer's settings on SIGHUP and its mixtures in the on-disk snapshot (issue 13).

The world of test_balancer (lu: 3 servers of 512 kbit/s and most of the demand, de 10 of
25,000, us 12 of 100,000), its demand written into dns_demand, timepool-dns reading a config
file:
1. balancer_factor = 2: lu's clients get almost nothing from lu;
2. the file says balancer_factor = 100, SIGHUP: lu's servers may carry 50x more, and lu's share
   of its own clients rises at once (no restart);
3. balancer = false, SIGHUP: no mixture, the plain geo rule (lu has 3 servers: lu);
4. balancer = true again, SIGHUP: the mixture is back, and the snapshot file holds it;
5. timepool-dns restarted without its database answers from that file with the same mixture,
   and lu's clients keep getting servers outside lu.
"""
import os
import shutil
import signal
import tempfile

from geotest import Database, Dns, address_in, check, ranges_v4
from test_balancer import add_world, debug_text, fast_ecs_queries, parse_mixture


def write_config(path, **dns):
    with open(path, "w") as f:
        f.write("[dns]\n")
        for k, v in dns.items():
            f.write("%s = %s\n" % (k, v))


def main():
    ranges = ranges_v4()
    db = Database()
    work = tempfile.mkdtemp(prefix="tpdns-reload-")
    cfg = os.path.join(work, "timepool.toml")
    srv = None
    try:
        add_world(db)
        db.sql("INSERT INTO dns_demand (minute, zone_id, family, count) "
               "SELECT date_trunc('minute', now()), id, 4, "
               "CASE name WHEN 'lu' THEN 3000 ELSE 100 END FROM zones "
               "WHERE name IN ('lu', 'de', 'us')")
        base = {"geo_min_servers": 3, "balancer_interval": 3600, "rebuild_interval": 3600}
        write_config(cfg, balancer_factor="2.0", **base)
        args = ["-c", cfg, "--set", "dns.rng_seed=13"]
        srv = Dns(db.conninfo(), args, workdir=work)
        lu_client = address_in(ranges, "lu")[0]

        def lu_mix():
            text = debug_text(srv, lu_client)
            return parse_mixture(text) if "mixture" in text else None

        srv.wait_for(lu_mix, 20, "the mixture for lu")
        first = lu_mix()
        check(first.get("lu", 0) < 0.01, "factor 2: lu's clients get almost nothing from lu (%s)"
              % first)

        write_config(cfg, balancer_factor="100.0", **base)
        srv.signal(signal.SIGHUP)
        t = srv.wait_for(lambda: (lu_mix() or {}).get("lu", 0) > 0.05, 20,
                         "lu's own share up after SIGHUP with factor 100")
        check(True, "SIGHUP, factor 100: lu's own share %s after %.2f s" % (lu_mix(), t))

        write_config(cfg, balancer="false", **base)
        srv.signal(signal.SIGHUP)
        srv.wait_for(lambda: lu_mix() is None, 20, "no mixture after SIGHUP with balancer = false")
        plain = debug_text(srv, lu_client)
        check("zone=lu" in plain, "balancer off: lu's clients by the plain rule (%s)" % plain)

        write_config(cfg, balancer_factor="2.0", **base)
        srv.signal(signal.SIGHUP)
        srv.wait_for(lambda: lu_mix() == first, 20, "the factor-2 mixture back after SIGHUP")
        def saved():
            with open(srv.snapshot_file) as f:
                return "\nmixture 4 " in f.read()
        # The file is written right after the snapshot is published.
        srv.wait_for(saved, 10, "the snapshot file holding the mixtures")
        check(True, "the snapshot file holds the mixtures")
        srv.close()
        srv = None

        # No database: port 1 on loopback refuses at once.
        srv = Dns("host=127.0.0.1 port=1 dbname=none user=none", args, workdir=work)
        check("mixtures from the snapshot file" in srv.log_text(),
              "started from the snapshot file with its mixtures")
        again = lu_mix()
        check(again == first, "without the database lu's clients get the same mixture (%s)"
              % again)
        answers = fast_ecs_queries(srv.port, "pool.example", lu_client, 400)
        outside = sum(1 for a in answers if not a[0].startswith("203.0.113."))
        check(outside > 300, "lu's clients still mostly get servers outside lu: %d of 400"
              % outside)
    finally:
        if srv:
            srv.close()
        db.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
