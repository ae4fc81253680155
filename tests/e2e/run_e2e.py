#!/usr/bin/env python3
"""Starts a fresh database, a chronyd on a loopback port and the real timepool-web (loopback
allowed, probing that port), creates an admin, then runs journeys.js in headless Chromium.
Screenshots: $TIMEPOOL_BINARY_DIR/e2e-screenshots/."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "web"))
import webtest  # noqa: E402


def main():
    subprocess.run([os.path.join(HERE, "install.sh")], check=True)
    shots = os.path.join(os.environ["TIMEPOOL_BINARY_DIR"], "e2e-screenshots")
    os.makedirs(shots, exist_ok=True)
    db = webtest.TestDatabase()
    chrony = webtest.Chronyd()
    web = None
    try:
        web = webtest.WebServer(db, {"allow_loopback": "true", "probe_port": chrony.port})
        db.create_admin("admin@example.org", "admin password 1")
        env = dict(os.environ, BASE_URL="http://%s:%d" % (web.host, web.port), SHOTS=shots,
                   ADMIN_EMAIL="admin@example.org", ADMIN_PASSWORD="admin password 1")
        rc = subprocess.run(["node", os.path.join(HERE, "journeys.js")], env=env, cwd=HERE,
                            timeout=300).returncode
        print("screenshots in", shots)
        web_rc = web.stop()
        web = None
        if web_rc != 0:
            print("timepool-web exited with", web_rc)
            return 1
        return rc
    finally:
        if web:
            web.stop()
        chrony.stop()
        db.close()


if __name__ == "__main__":
    sys.exit(main())
