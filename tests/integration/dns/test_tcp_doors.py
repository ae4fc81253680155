"""Issue 14: 512 TCP connections trickling a byte every 4 s no longer lock out a fresh TCP
client. Before, the 513th connection was closed at once for as long as the tricklers kept
going (no deadline for a whole message, no per-client limit, no eviction at capacity).

Likewise 8 slow HTTP clients no longer block /metrics (checked here with 200).

The daemon runs with its defaults (512 connections, 32 per address, 2 s per message); the
tricklers come from 16 loopback addresses (127.0.1.1-16, 32 each: the most the per-address
limit lets in), the fresh client from 127.0.0.1."""
import errno
import socket
import struct
import time

import dns.message

from dnstest import Database, Dns, check, tptest

TRICKLE_ADDRS = ["127.0.1.%d" % i for i in range(1, 17)]
PER_ADDR = 32


def connect(src, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_by_server(s):
    """True when the server has closed `s` (EOF or reset), without blocking."""
    s.setblocking(False)
    try:
        return s.recv(100) == b""
    except BlockingIOError:
        return False
    except OSError as e:
        return e.errno in (errno.ECONNRESET, errno.EPIPE)
    finally:
        s.setblocking(True)
        s.settimeout(3)


def fresh_query(port, src="127.0.0.1"):
    """One query on a new connection; returns the seconds it took, or None if refused."""
    t0 = time.time()
    try:
        with connect(src, port) as s:
            w = dns.message.make_query("pool.example", "A").to_wire()
            s.sendall(struct.pack("!H", len(w)) + w)
            data = b""
            while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
                chunk = s.recv(65535)
                if not chunk:
                    return None
                data += chunk
            r = dns.message.from_wire(data[2:])
            return time.time() - t0 if r.rcode() == 0 and r.answer else None
    except OSError:
        return None


def metric(srv, name):
    total = 0
    for line in srv.metrics().splitlines():
        if line.startswith(name):
            total += float(line.split()[-1])
    return total


def close_all(socks):
    for s in socks:
        s.close()
    del socks[:]


def tricklers_are_cut(srv, socks):
    """512 tricklers, each with the first byte of a length prefix, a byte every 4 s after: a fresh
    client is answered at once, and every trickler is closed."""
    p = srv.port
    for a in TRICKLE_ADDRS:
        for _ in range(PER_ADDR):
            s = connect(a, p)
            s.sendall(b"\x00")
            socks.append(s)
    time.sleep(0.3)
    lat = []
    for rnd in range(3):
        t = fresh_query(p)
        check(t is not None, "round %d: a fresh TCP client is answered while 512 connections "
              "trickle" % rnd)
        lat.append(t)
        time.sleep(4)
        for s in socks:
            try:
                s.send(b"\x00")
            except OSError:
                pass
    print("fresh client latency while trickled: %s s" % ", ".join("%.3f" % x for x in lat))
    check(max(lat) < 1.0, "answered within 1 s (max %.3f s)" % max(lat))
    gone = sum(1 for s in socks if closed_by_server(s))
    print("tricklers closed by the server: %d of %d" % (gone, len(socks)))
    check(gone == len(socks), "every trickler was closed (message deadline or eviction)")
    timeouts = metric(srv, 'timepool_dns_tcp_closed_total{reason="message_timeout"}')
    evicted = metric(srv, 'timepool_dns_tcp_closed_total{reason="evicted"}')
    print("metrics: message_timeout=%d evicted=%d" % (timeouts, evicted))
    check(timeouts >= 500, "the message deadline closed the tricklers (%d)" % timeouts)
    check(evicted >= 1, "the fresh client got its slot by eviction (%d)" % evicted)
    close_all(socks)


def per_address_limit(srv, socks):
    """32 from one address, the 33rd closed at once; others unaffected."""
    p = srv.port
    for _ in range(PER_ADDR):
        socks.append(connect("127.0.2.1", p))
    time.sleep(0.2)
    extra = connect("127.0.2.1", p)
    check(extra.recv(100) == b"", "the 33rd connection from one address is closed at once")
    extra.close()
    check(fresh_query(p, "127.0.2.2") is not None, "another address is still answered")
    check(metric(srv, 'timepool_dns_tcp_closed_total{reason="per_address_limit"}') >= 1,
          "per-address refusals are counted")
    close_all(socks)


def metrics_with_slow_clients(srv, socks):
    """/metrics with slow HTTP clients connected: 100 that send a header line every second and
    never finish, 100 that send nothing. Scrapes are still answered at once."""
    for i in range(200):
        s = socket.create_connection(("127.0.0.1", srv.metrics_port), timeout=3)
        if i % 2 == 0:
            s.sendall(b"GET /metrics HTTP/1.1\r\n")
        socks.append(s)
    took = []
    for rnd in range(4):
        t0 = time.time()
        text = srv.metrics()
        took.append(time.time() - t0)
        check("timepool_dns_udp_packets_total" in text,
              "round %d: /metrics answers with slow clients connected" % rnd)
        for s in socks[::2]:
            try:
                s.send(b"X-Slow: 1\r\n")
            except OSError:
                pass
        time.sleep(1)
    print("/metrics with 200 slow clients: %s s" % ", ".join("%.3f" % x for x in took))
    check(max(took) < 0.5, "every scrape within 0.5 s (max %.3f s)" % max(took))


def main():
    db = Database()
    srv = None
    socks = []
    try:
        db.add_server("192.0.2.1", "de", 1500)
        srv = Dns(db.conninfo())
        tricklers_are_cut(srv, socks)
        per_address_limit(srv, socks)
        metrics_with_slow_clients(srv, socks)
    finally:
        tptest.close_all(*socks, srv, db)
    print("PASS")


if __name__ == "__main__":
    main()
