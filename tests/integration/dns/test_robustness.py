"""Malformed input gets the right response or silence, and the server keeps answering
(after Knot's tests-extra security/dnsheader). UDP and TCP, plus the TCP idle timeout and the
connection cap."""
import random
import socket
import struct
import time

import dns.message

from dnstest import Database, Dns, check, fail, tptest

SEED = 20261126


def rcode(data):
    return data[3] & 0x0F


def still_answers(srv, what):
    r = srv.query("pool.example")
    check(r.rcode() == 0 and len(r.answer[0]) == 2, "still answers after " + what)


def bad_headers_and_questions(srv, good):
    # Every truncated header length: silence.
    for n in range(12):
        if srv.raw_udp(good[:n], timeout=0.2) is not None:
            fail("answered a %d-byte packet" % n)
    check(True, "silence for every header shorter than 12 bytes")
    still_answers(srv, "truncated headers")

    # Every truncated question: FORMERR.
    for n in range(12, len(good)):
        r = srv.raw_udp(good[:n])
        if r is None or rcode(r) != 1 or not r[2] & 0x80:
            fail("truncated question of %d bytes: %r" % (n, r))
    check(True, "FORMERR for every truncated question")

    # QR set: never answer a response.
    resp = bytearray(good)
    resp[2] |= 0x80
    check(srv.raw_udp(bytes(resp)) is None, "a response packet gets silence")

    # qdcount 0 and 2.
    for qd in (0, 2):
        pkt = bytearray(good)
        struct.pack_into("!H", pkt, 4, qd)
        r = srv.raw_udp(bytes(pkt))
        check(r is not None and rcode(r) == 1, "qdcount %d: FORMERR" % qd)

    # Label loop and pointers in the question: FORMERR.
    hdr = good[:12]
    for name in (b"\xc0\x0c", b"\x01a\xc0\x0c", b"\xc0\xff", b"\x3fabc"):
        r = srv.raw_udp(hdr + name + b"\x00\x01\x00\x01")
        check(r is not None and rcode(r) == 1, "question name %r: FORMERR" % name)


def bad_additional_edns_and_opcodes(srv, good):
    # Additional section: pointer past the end, a record longer than the packet, two OPTs.
    base = bytearray(good)
    struct.pack_into("!H", base, 10, 1)
    for tail in (b"\xc0\xff", b"\x00\x00\x29\x10\x00\x00\x00\x00\x00\xff\xff",
                 b"\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00" * 2):
        pkt = bytearray(base) + tail
        if tail.count(b"\x29") == 2:
            struct.pack_into("!H", pkt, 10, 2)
        r = srv.raw_udp(bytes(pkt))
        check(r is not None and rcode(r) == 1, "bad additional %r: FORMERR" % tail[:6])

    # Huge EDNS size: capped.
    q = dns.message.make_query("pool.example", "A", use_edns=0, payload=65535)
    r = dns.message.from_wire(srv.raw_udp(q.to_wire()))
    check(r.payload == 1232, "EDNS 65535 answered with our 1232")

    # Other opcodes: NOTIMP.
    for op in (1, 2, 4, 5, 15):
        pkt = bytearray(good)
        pkt[2] = (pkt[2] & 0x87) | (op << 3)
        r = srv.raw_udp(bytes(pkt))
        check(r is not None and rcode(r) == 4, "opcode %d: NOTIMP" % op)
    still_answers(srv, "malformed queries")


def random_input(srv, good):
    # Random bytes, and random corruptions of a good query.
    rnd = random.Random(SEED)
    print("random seed", SEED)
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(3000):
            if i % 2:
                pkt = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 100)))
            else:
                pkt = bytearray(good)
                for _ in range(rnd.randrange(1, 4)):
                    pkt[rnd.randrange(len(pkt))] = rnd.getrandbits(8)
                pkt = bytes(pkt)
            s.sendto(pkt, ("127.0.0.1", srv.port))
        s.settimeout(0.5)
        try:
            while True:
                data = s.recv(65535)
                answered += 1
                if len(data) < 12 or not data[2] & 0x80:
                    fail("bad reply to random input: %r" % data)
        except socket.timeout:
            pass
    check(True, "3000 random packets: %d well-formed replies, the rest silence" % answered)
    still_answers(srv, "random input")


def tcp_garbage_and_timeouts(srv):
    # TCP: garbage closes the connection; the server carries on.
    with socket.create_connection(("127.0.0.1", srv.port), timeout=3) as s:
        s.sendall(b"\x00\x05hello")
        check(s.recv(100) == b"", "TCP garbage: connection closed")
    # A length prefix promising more than is sent, then silence: the idle timeout closes it.
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"\xff\xff\x00\x01")
        t0 = time.time()
        check(s.recv(100) == b"" and time.time() - t0 < 4.5, "a stalled TCP message times out (%.1f s)" % (time.time() - t0))
    # An idle connection is closed after the configured 700 ms.
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        t0 = time.time()
        check(s.recv(100) == b"" and time.time() - t0 >= 0.6, "idle TCP connection closed after %.1f s" % (time.time() - t0))


def tcp_connection_cap(srv):
    # The connection cap: 5 open; the 6th is admitted and the least recently active one
    # (the first) is closed to make room (issue 14: a full server locks no one out).
    conns = []
    for _ in range(5):
        conns.append(socket.create_connection(("127.0.0.1", srv.port), timeout=3))
        time.sleep(0.05)
    time.sleep(0.2)
    extra = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
    w = dns.message.make_query("pool.example", "A").to_wire()
    extra.sendall(struct.pack("!H", len(w)) + w)
    check(len(extra.recv(65535)) > 12, "the 6th TCP connection is answered")
    check(conns[0].recv(100) == b"", "the least recently active connection was evicted")
    extra.close()
    for c in conns:
        c.close()
    time.sleep(0.3)
    r = srv.query("pool.example", tcp=True)
    check(r.rcode() == 0, "TCP answers again once connections closed")
    still_answers(srv, "TCP abuse")


def main():
    db = Database()
    srv = None
    try:
        db.add_server("192.0.2.1", "it", 1500)
        db.add_server("192.0.2.2", "it", 1500)
        srv = Dns(db.conninfo(), ["--set", "dns.tcp_idle_timeout_ms=700",
                                  "--set", "dns.tcp_max_connections=5"])
        good = dns.message.make_query("pool.example", "A").to_wire()
        bad_headers_and_questions(srv, good)
        bad_additional_edns_and_opcodes(srv, good)
        random_input(srv, good)
        tcp_garbage_and_timeouts(srv)
        tcp_connection_cap(srv)
    finally:
        tptest.close_all(srv, db)
    print("PASS")


if __name__ == "__main__":
    main()
