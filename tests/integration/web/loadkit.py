"""Load for the availability tests: an NTP address that never answers, clients that trickle a
request one header line at a time, and request timings with their percentiles."""

import math
import socket
import ssl
import threading
import time
import http.client


class SilentNtp:
    """A UDP port on every local address that takes NTP packets and never answers (no ICMP
    either): a probe of 127.x.y.z at this port waits for its whole timeout."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", 0))
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def tls_context():
    """A client context that takes the test's self-signed certificate. Made once: building a
    default context loads the system's CA store, about 100 ms, which would be timed as the
    server's."""
    global _TLS
    if _TLS is None:
        _TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        _TLS.check_hostname = False
        _TLS.verify_mode = ssl.CERT_NONE
    return _TLS


_TLS = None


class SlowClients:
    """n connections to host:port, from the given source addresses in turn, each sending the
    start of a request and then one more header line every `interval` seconds, never ending it.
    closed_after[i] is when (seconds after its connect) the server first closed connection i.
    reconnect=True: a closed connection is opened again at once, so n stay open until stop()."""

    def __init__(self, host, port, n, sources, interval=3.0, tls=False, path="/",
                 reconnect=False):
        self.stop_event = threading.Event()
        self.closed_after = [None] * n
        self.connected = 0
        self.reconnects = 0
        self.threads = []
        ctx = tls_context() if tls else None
        for i in range(n):
            t = threading.Thread(target=self._run, daemon=True,
                                 args=(i, host, port, sources[i % len(sources)], interval, ctx,
                                       path, reconnect))
            t.start()
            self.threads.append(t)

    def _run(self, i, host, port, source, interval, ctx, path, reconnect):
        first = True
        while first or (reconnect and not self.stop_event.is_set()):
            closed = self._trickle(host, port, source, interval, ctx, path, first)
            if first:
                self.closed_after[i] = closed
            else:
                self.reconnects += 1
            first = False

    def _trickle(self, host, port, source, interval, ctx, path, first):
        """One connection until the server closes it (its age then) or stop() (None)."""
        try:
            s = socket.create_connection((host, port), timeout=10, source_address=(source, 0))
            if ctx:
                s = ctx.wrap_socket(s, server_hostname="localhost")
        except OSError:
            time.sleep(0.1)
            return 0.0
        if first:
            self.connected += 1
        start = time.monotonic()
        lines = [("GET %s HTTP/1.1\r\n" % path).encode(), b"Host: localhost\r\n"]
        n = 0
        try:
            while not self.stop_event.is_set():
                s.sendall(lines[n] if n < len(lines) else b"X-Slow-%d: x\r\n" % n)
                n += 1
                s.settimeout(interval)
                try:
                    if s.recv(4096) == b"":
                        break
                    break  # any answer (408, 400) ends the request too
                except (socket.timeout, ssl.SSLWantReadError):
                    continue
        except OSError:
            pass
        finally:
            s.close()
        return None if self.stop_event.is_set() else time.monotonic() - start

    def all_closed(self):
        return all(c is not None for c in self.closed_after)

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=10)


def time_requests(n, host, port, path, source=None, tls=False, headers=None, pause=0.05):
    """n sequential GETs of path, each on a new connection; their times in ms and statuses."""
    times, statuses = [], []
    for _ in range(n):
        start = time.monotonic()
        if tls:
            conn = http.client.HTTPSConnection(host, port, timeout=60, context=tls_context(),
                                               source_address=(source, 0) if source else None)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=60,
                                              source_address=(source, 0) if source else None)
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        r.read()
        conn.close()
        times.append((time.monotonic() - start) * 1000)
        statuses.append(r.status)
        time.sleep(pause)
    return times, statuses


def percentile(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def summary(name, times):
    return "%s: n=%d median=%.1f ms p99=%.1f ms max=%.1f ms" % (
        name, len(times), percentile(times, 50), percentile(times, 99), max(times))
