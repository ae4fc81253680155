#!/usr/bin/env python3
"""The pages that explain, in headless Chromium: starts a fresh database and the real
timepool-web, seeds a volunteer whose server keeps time 5 s off (probes from one monitor),
a country zone (nl) with one server in DNS beside a continent with more, records the zones'
history, then runs pages.js. Screenshots: $TIMEPOOL_BINARY_DIR/artifacts/e2e-pages/, each
listed at the end of the output."""

import os
import sys

from e2e_site import journey, screenshot_dir, stop_site, webtest

EMAIL, PASSWORD = "owner@example.org", "correct horse battery"


def seed(db, web):
    webtest.Client(web).signup(EMAIL, role="volunteer", password=PASSWORD)
    account = db.one("SELECT id FROM accounts WHERE email = %s", EMAIL)
    db.q("INSERT INTO monitors (name, key_hash, status) VALUES ('fra-1', 'k1', 'active')")
    sid = db.one("INSERT INTO servers (address, owner_id, netspeed, country, score) VALUES "
                 "('198.51.100.77', %s, 1500, 'de', -20) RETURNING id", account)
    # Three hours of probes 9 minutes apart: good at first, then 5 s off for the last hour.
    db.q("INSERT INTO probe_log (ts, server_id, monitor_id, step, score, offset_s, rtt_s, "
         "stratum, leap) SELECT now() - make_interval(mins => 9 * g), %s, m.id, "
         "CASE WHEN g <= 7 THEN -4 ELSE 1 END, CASE WHEN g <= 7 THEN -20 + g ELSE 15 END, "
         "CASE WHEN g <= 7 THEN 5.0001 ELSE 0.0004 * mod(g, 5) END, 0.021, 2, 0 "
         "FROM generate_series(1, 20) g, monitors m", sid)
    for addr, cc in (("198.51.100.81", "nl"), ("198.51.100.82", "de"), ("198.51.100.83", "de"),
                     ("198.51.100.84", "fr")):
        db.q("INSERT INTO servers (address, netspeed, country, score) VALUES (%s, 1500, %s, 15)",
             addr, cc)
    db.one("SELECT zone_servers_record()")
    # Demand as the DNS servers count it: nl's clients ask for most of it, on one server.
    db.q("INSERT INTO dns_demand (minute, zone_id, family, count) "
         "SELECT date_trunc('minute', now()) - make_interval(mins => g), z.id, 4, "
         "CASE z.name WHEN 'nl' THEN 900 ELSE 100 END "
         "FROM generate_series(1, 50, 7) g, zones z WHERE z.name IN ('nl', 'de', 'fr')")
    return sid


def main():
    shots = screenshot_dir("artifacts", "e2e-pages", clear=True)
    db = webtest.TestDatabase()
    web = None
    try:
        # The site's address is its configured origin: Chromium's POSTs carry it in Origin.
        port = webtest.free_port(webtest.socket.SOCK_STREAM)
        web = webtest.WebServer(db, {"port": port}, mail={"site_url": "http://127.0.0.1:%d" % port})
        sid = seed(db, web)
        rc = journey("pages.js", "http://%s:%d" % (web.host, web.port), shots,
                     OWNER_EMAIL=EMAIL, OWNER_PASSWORD=PASSWORD, SERVER_ID=str(sid))
        netspeed = db.one("SELECT netspeed FROM servers WHERE id = %s", sid)
        if rc == 0 and netspeed != 3000:
            print("not ok - the netspeed saved once is 3000, found", netspeed)
            rc = 1
        print("screenshots:")
        for name in sorted(os.listdir(shots)):
            print("  " + os.path.join(shots, name))
        site, web = web, None
        return stop_site(site, rc)
    finally:
        webtest.tptest.close_all(web, db)


if __name__ == "__main__":
    sys.exit(main())
