"""Changes in the database reach the answers through LISTEN/NOTIFY within 5 seconds, without a
restart (the timer rebuild is set to an hour so only NOTIFY can do it); SIGHUP re-reads the
configuration; SIGTERM stops cleanly (checked by Dns.close: exit code 0)."""
import os
import signal
import time

from dnstest import Database, Dns, check

LIMIT = 5.0


def main():
    db = Database()
    srv = None
    import tempfile
    work = tempfile.mkdtemp(prefix="tpdns-live-")
    try:
        a = db.add_server("192.0.2.1", "no", 1500)
        db.add_server("192.0.2.2", "no", 1500)
        conf_dir = os.path.dirname(os.path.abspath(__file__))
        conf = os.path.join(work, "timepool.toml")
        with open(conf, "w") as f:
            f.write("[dns]\nttl = 150\nrebuild_interval = 3600\n")
        srv = Dns(db.conninfo(), ["-c", conf])
        check(set(srv.addresses("no.pool.example")) == {"192.0.2.1", "192.0.2.2"}, "both servers answer")

        # A score falling below 10 removes the server.
        db.sql("UPDATE servers SET score = 5 WHERE id = %s", (a,))
        t = srv.wait_for(lambda: set(srv.addresses("no.pool.example")) == {"192.0.2.2"}, LIMIT,
                         "score drop")
        check(True, "score drop visible after %.2f s (limit %.0f s)" % (t, LIMIT))
        # And rising again brings it back.
        db.sql("UPDATE servers SET score = 12 WHERE id = %s", (a,))
        t = srv.wait_for(lambda: set(srv.addresses("no.pool.example")) == {"192.0.2.1", "192.0.2.2"},
                         LIMIT, "score rise")
        check(True, "score rise visible after %.2f s" % t)
        # A netspeed change to monitoring only removes it too.
        db.sql("UPDATE servers SET netspeed = 0 WHERE id = %s", (a,))
        t = srv.wait_for(lambda: set(srv.addresses("no.pool.example")) == {"192.0.2.2"}, LIMIT,
                         "netspeed 0")
        check(True, "netspeed 0 visible after %.2f s" % t)

        # A newly approved vendor zone goes live.
        r = srv.query("0.newvendor.pool.example")
        check(r.rcode() == 3, "before approval the vendor name does not exist")
        db.approve_vendor("newvendor", "ntp")
        t = srv.wait_for(lambda: len(srv.addresses("0.newvendor.pool.example")) > 0, LIMIT,
                         "vendor approval")
        check(True, "approved vendor zone answers after %.2f s" % t)

        # A burst of changes is coalesced (debounce) and still lands within the limit.
        for i in range(30):
            db.add_server("198.51.100.%d" % (i + 1), "no", 1500)
        t = srv.wait_for(lambda: len(srv.addresses("no.pool.example")) == 4 and
                         srv.query("no.pool.example").answer and
                         any(x.startswith("198.51.100.") for x in srv.addresses("no.pool.example")),
                         LIMIT, "burst")
        check(True, "a burst of 30 inserts is visible after %.2f s" % t)

        # SIGHUP: re-read the configuration (TTL) and rebuild.
        with open(conf, "w") as f:
            f.write("[dns]\nttl = 300\nrebuild_interval = 3600\n")
        srv.signal(signal.SIGHUP)
        t = srv.wait_for(lambda: srv.query("no.pool.example").answer[0].ttl == 300, LIMIT, "SIGHUP reload")
        check(True, "SIGHUP: new TTL 300 after %.2f s" % t)
        # A broken config on SIGHUP keeps the old one and keeps answering.
        with open(conf, "w") as f:
            f.write("[dns]\nttl = 5\n")
        srv.signal(signal.SIGHUP)
        time.sleep(0.5)
        check(srv.query("no.pool.example").answer[0].ttl == 300, "invalid reload keeps the old config")
        check("reload failed" in srv.log_text(), "the failed reload is logged")
        check("rcode" in srv.metrics(), "still serving metrics")
    finally:
        if srv:
            srv.close()
        db.close()
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
