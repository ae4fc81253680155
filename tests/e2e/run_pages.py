#!/usr/bin/env python3
"""The pages that explain, in headless Chromium: starts a fresh database and the real
timepool-web, seeds a volunteer whose server keeps time 5 s off (probes from one monitor),
a country zone (nl) with one server in DNS beside a continent with more, records the zones'
history, then runs pages.js. Screenshots: $TIMEPOOL_BINARY_DIR/artifacts/e2e-pages/, each
listed at the end of the output."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "web"))
import webtest  # noqa: E402

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
    subprocess.run([os.path.join(HERE, "install.sh")], check=True)
    shots = os.path.join(os.environ["TIMEPOOL_BINARY_DIR"], "artifacts", "e2e-pages")
    os.makedirs(shots, exist_ok=True)
    for old in os.listdir(shots):
        os.remove(os.path.join(shots, old))
    db = webtest.TestDatabase()
    web = None
    try:
        web = webtest.WebServer(db)
        sid = seed(db, web)
        env = dict(os.environ, BASE_URL="http://%s:%d" % (web.host, web.port), SHOTS=shots,
                   OWNER_EMAIL=EMAIL, OWNER_PASSWORD=PASSWORD, SERVER_ID=str(sid))
        rc = subprocess.run(["node", os.path.join(HERE, "pages.js")], env=env, cwd=HERE,
                            timeout=300).returncode
        netspeed = db.one("SELECT netspeed FROM servers WHERE id = %s", sid)
        if rc == 0 and netspeed != 3000:
            print("not ok - the netspeed saved once is 3000, found", netspeed)
            rc = 1
        print("screenshots:")
        for name in sorted(os.listdir(shots)):
            print("  " + os.path.join(shots, name))
        web_rc = web.stop()
        web = None
        if web_rc != 0:
            print("timepool-web exited with", web_rc)
            return 1
        return rc
    finally:
        if web:
            web.stop()
        db.close()


if __name__ == "__main__":
    sys.exit(main())
