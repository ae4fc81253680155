"""Helpers for the monitor API tests: a private CA made with the openssl CLI, a login user with
the timepool_monitor role, timepool-monitor-api started on a free port, and HTTPS requests that
verify the API's certificate against the CA."""
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
import tptest  # noqa: E402


def make_ca(d, ip="127.0.0.1"):
    """A CA and a certificate for `ip` and localhost signed by it; returns (ca, cert, key)."""
    ca_key, ca, key, csr, cert = (os.path.join(d, n) for n in
                                  ("ca.key", "ca.pem", "api.key", "api.csr", "api.pem"))
    run = lambda *a: subprocess.run(list(a), check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=timepool test CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=monitor-api.test")
    ext = os.path.join(d, "san.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:%s,DNS:localhost\n" % ip)
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    os.chmod(key, 0o644)
    return ca, cert, key


def monitor_role_conninfo(db):
    """A login user that holds only timepool_monitor, and its conninfo for `db`."""
    user = "tp_mon_" + secrets.token_hex(4)
    db.q("CREATE ROLE %s LOGIN IN ROLE timepool_monitor" % user)
    return re.sub(r"user=\S+", "user=" + user, db.conninfo()), user


class Api(tptest.Daemon):
    """timepool-monitor-api over HTTPS (tls=(cert, key)) or plain HTTP, on a free port."""

    def __init__(self, conninfo, tls=None, port=0, extra=(), workdir=None):
        args = [tptest.MONITOR_API, "--set", "database.conninfo=" + conninfo,
                "--set", "monitor_api.listen=127.0.0.1:%d" % port,
                "--set", "monitor_api.metrics_listen=127.0.0.1:0", "--set", "log.level=debug"]
        if tls:
            args += ["--set", "monitor_api.tls_cert=" + tls[0], "--set", "monitor_api.tls_key=" + tls[1]]
        else:
            args += ["--set", "monitor_api.plain_http=true"]
        super().__init__("monitor-api", args + list(extra), workdir=workdir,
                         ready=[r"monitor API on (https?)://127\.0\.0\.1:(\d+)",
                                r"metrics on http://127\.0\.0\.1:(\d+)/metrics"])
        self.scheme = self.ready_match[0].group(1)
        self.port = int(self.ready_match[0].group(2))
        self.metrics_port = int(self.ready_match[1].group(1))
        self.url = "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def metrics(self):
        return tptest.read_metrics(self.metrics_port)


def request(url, key, body=None, ca=None, raw=None):
    """(status, parsed JSON body) of GET (body None) or POST; verifies against `ca`."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if key is not None:
        req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    ctx = ssl.create_default_context(cafile=ca) if ca else None
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


# --- what a monitor's debug log says it did (log.level=debug) --------------------------------
def spooled(spool):
    """The batches waiting in a monitor's spool folder."""
    return [n for n in os.listdir(spool) if n.endswith(".json") and n != "assignment.json"]


def batches_sent(log):
    """The ids of the batches the API acknowledged, in order (a batch id may show twice only
    if the monitor sent it twice)."""
    return re.findall(r"debug monitor: sent \d+-([A-Za-z0-9._-]+)\.json", log)


def batches_sent_again(log):
    """How many of them the API acknowledged as applied before."""
    return len(re.findall(r"sent \S+ \(the API had it already\)", log))


def results_taken(log, server_id):
    """How many results for the server the monitor took for submission."""
    return len(re.findall(r"debug monitor: server=%d (?!not submitted)" % server_id, log))
