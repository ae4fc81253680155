#!/usr/bin/env python3
"""Starts a fresh database, a real SMTP server (aiosmtpd, tests/support/smtp_sink.py) and the
real timepool-web sending to it with address confirmation required, then runs mail.js in
headless Chromium, which follows the mailed links. Afterwards checks the database side: tokens
are stored only hashed and used once, one confirmation and one reset mail went out, and the
audit log recorded each step. Screenshots: $TIMEPOOL_BINARY_DIR/e2e-screenshots/."""

import os
import sys

from e2e_site import journey, screenshot_dir, stop_site, webtest
from tptest import free_port


def main():
    shots = screenshot_dir("e2e-screenshots")
    db = webtest.TestDatabase()
    sink = webtest.SmtpSink()
    web = None
    try:
        port = free_port(webtest.socket.SOCK_STREAM)
        base = "http://127.0.0.1:%d" % port
        web = webtest.WebServer(db, {"port": port}, mail={
            "transport": "smtp", "host": "127.0.0.1", "port": sink.port, "tls": "none",
            "from": "pool@pool.test", "site_url": base, "verify_email": "true",
            "interval_seconds": 1})
        rc = journey("mail.js", base, shots, MAIL_DIR=sink.box)
        if rc != 0:
            print(web.log_text()[-3000:])
            return rc
        # The database side of what the browser did.
        rows = db.q("SELECT purpose, used_at IS NOT NULL FROM account_tokens ORDER BY created_at")
        assert rows == [("verify", True), ("reset", True)], rows
        raw = [os.path.join(sink.box, f) for f in os.listdir(sink.box) if f.endswith(".eml")]
        for path in raw:
            with open(path, "rb") as f:
                text = f.read().decode("latin1").replace("=\r\n", "")
            for (h,) in db.q("SELECT token_hash FROM account_tokens"):
                assert h not in text, "a stored hash appears in a mail"
        tokens = set()
        for path in raw:
            with open(path, "rb") as f:
                for m in webtest.re.finditer(r"token=3D([0-9a-f]{64})", f.read().decode("latin1")
                                             .replace("=\r\n", "")):
                    tokens.add(m.group(1))
        stored = {h for (h,) in db.q("SELECT token_hash FROM account_tokens")}
        assert tokens and not (tokens & stored), "tokens must be stored only as hashes"
        kinds = [k for (k,) in db.q("SELECT kind FROM mail_outbox ORDER BY id")]
        assert kinds == ["verify", "reset"], kinds
        actions = {a for (a,) in db.q("SELECT action FROM audit_log")}
        for a in ("account.signup", "account.verify", "account.password-reset-request",
                  "account.password-reset"):
            assert a in actions, (a, actions)
        print("ok - tokens hashed and used once, one mail each, every step audited")
        site, web = web, None
        return stop_site(site, 0)
    finally:
        webtest.tptest.close_all(web, sink, db)


if __name__ == "__main__":
    sys.exit(main())
