#!/usr/bin/env python3
"""Starts a fresh database, a chronyd on a loopback port and the real timepool-web (loopback
allowed, probing that port), creates an admin and a vendor whose approved zone holds five weeks
of a fleet's DNS counts (the seed's weekly 19:45-19:47 burst, and a first burst of 500 queries in
one minute three hours ago), waits for the site's findings job, then runs journeys.js in headless
Chromium. Screenshots: $TIMEPOOL_BINARY_DIR/e2e-screenshots/."""

import sys

from e2e_site import journey, screenshot_dir, stop_site, webtest


def seed_fleet(db, web):
    """A vendor with the approved zone "fleetco" and its counts, written as the DNS servers
    write them (minute rows without zeros, hourly sums)."""
    email, password = "fleet@example.org", "correct horse battery"
    webtest.Client(web).signup(email, role="vendor", password=password)
    account = db.one("SELECT id FROM accounts WHERE email = %s", email)
    zone = db.one("INSERT INTO zones (name, kind, parent_id, description) SELECT 'fleetco', "
                  "'vendor', id, 'Fleet clocks' FROM zones WHERE kind = 'global' RETURNING id")
    request = db.one(
        "INSERT INTO vendor_zones (name, account_id, organization, contact, device_description, "
        "device_count, client_type, status, zone_id, decided_at) VALUES ('fleetco', %s, "
        "'Fleet Inc', 'ops@fleet.test', 'wall clocks', 50000, 'sntp', 'approved', %s, now()) "
        "RETURNING id", account, zone)
    db.q("INSERT INTO dns_query_counts (minute, zone_id, qtype, rcode, count) "
         "SELECT m, %s, 1, 0, c FROM (SELECT m, CASE "
         "  WHEN m = date_trunc('minute', now()) - interval '3 hours' THEN 500 "
         "  WHEN extract(dow FROM m AT TIME ZONE 'UTC') = 0 AND "
         "       to_char(m AT TIME ZONE 'UTC', 'HH24:MI') IN ('19:45', '19:46', '19:47') THEN 170 "
         "  ELSE mod(extract(epoch FROM m)::bigint / 60, 3) END AS c "
         "  FROM generate_series(date_trunc('minute', now()) - interval '35 days', "
         "                       date_trunc('minute', now()) - interval '1 minute', "
         "                       interval '1 minute') m) s WHERE c > 0", zone)
    db.q("INSERT INTO dns_query_counts_hourly (hour, zone_id, qtype, rcode, count) "
         "SELECT date_trunc('hour', minute), zone_id, qtype, rcode, sum(count) "
         "FROM dns_query_counts WHERE zone_id = %s GROUP BY 1, 2, 3, 4", zone)
    db.wait_findings()
    return {"email": email, "password": password, "zone": "fleetco", "request": request}


def main():
    shots = screenshot_dir("e2e-screenshots")
    db = webtest.TestDatabase()
    chrony = webtest.Chronyd()
    web = None
    try:
        # The site's address is its configured origin: Chromium's POSTs carry it in Origin.
        port = webtest.free_port(webtest.socket.SOCK_STREAM)
        web = webtest.WebServer(db, {"allow_loopback": "true", "probe_port": chrony.port,
                                     "findings_interval_seconds": 1, "port": port},
                                mail={"site_url": "http://127.0.0.1:%d" % port})
        db.create_admin("admin@example.org", "admin password 1")
        fleet = seed_fleet(db, web)
        rc = journey("journeys.js", "http://%s:%d" % (web.host, web.port), shots,
                     ADMIN_EMAIL="admin@example.org", ADMIN_PASSWORD="admin password 1",
                     FLEET_EMAIL=fleet["email"], FLEET_PASSWORD=fleet["password"],
                     FLEET_ZONE=fleet["zone"], FLEET_REQUEST=str(fleet["request"]))
        print("screenshots in", shots)
        site, web = web, None
        return stop_site(site, rc)
    finally:
        webtest.tptest.close_all(web, chrony, db)


if __name__ == "__main__":
    sys.exit(main())
