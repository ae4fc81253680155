#!/usr/bin/python3
"""A real SMTP server for the mail tests (aiosmtpd, Debian python3-aiosmtpd): stores every
message it accepts as DIR/<n>.eml, with the envelope in DIR/<n>.env (MAIL FROM, then one line
per RCPT TO), and prints "ready" once it listens.

  smtp_sink.py --port PORT --dir DIR [--tls-cert C --tls-key K] [--user U --password P]

With a certificate it offers STARTTLS and requires it; with a user it requires AUTH (PLAIN or
LOGIN, after STARTTLS). Run it with /usr/bin/python3 (Debian's aiosmtpd)."""

import argparse
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    def __init__(self, folder):
        self.folder = folder
        self.n = len([f for f in os.listdir(folder) if f.endswith(".eml")])

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.folder, "%06d" % self.n)
        with open(base + ".env.tmp", "w") as f:
            f.write(envelope.mail_from + "\n" + "".join(r + "\n" for r in envelope.rcpt_tos))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".env.tmp", base + ".env")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    kw = {}
    if a.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        kw.update(tls_context=ctx, require_starttls=True)
    if a.user:
        def auth(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword) and data.login.decode() == a.user
                  and data.password.decode() == a.password)
            # handled=False: aiosmtpd answers a failure with 535 itself.
            return AuthResult(success=ok, handled=ok)
        kw.update(authenticator=auth, auth_required=True, auth_require_tls=bool(a.tls_cert))
    # Blocked before the server's thread starts, so only sigwait() below takes them.
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    c = Controller(Store(a.dir), hostname="127.0.0.1", port=a.port, **kw)
    c.start()
    print("ready", flush=True)
    try:
        signal.sigwait(stop)
    finally:
        c.stop()


if __name__ == "__main__":
    sys.exit(main())
