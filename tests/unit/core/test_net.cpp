// core/net: endpoint text and sockaddr round trips, strict parsing, the fd owner.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>

#include "core/net.hpp"

using timepool::net::bind_socket;
using timepool::net::Endpoint;
using timepool::net::UniqueFd;

TEST_CASE("endpoint parses ADDRESS:PORT and [IPV6]:PORT and prints them back", "[net]") {
  for (const char* text : {"127.0.0.1:53", "0.0.0.0:0", "192.0.2.7:65535", "[::1]:5353",
                           "[2001:db8::1]:123", "[::ffff:192.0.2.1]:9124", "[::]:80"}) {
    INFO(text);
    const auto e = Endpoint::parse(text);
    REQUIRE(e);
    CHECK(e->to_string() == text);
    CHECK(Endpoint::parse(e->to_string()) == e);
  }
  const auto v6 = *Endpoint::parse("[2001:DB8:0:0::1]:123");
  CHECK(v6.is_v6());
  CHECK(v6.port() == 123);
  CHECK(v6.to_string() == "[2001:db8::1]:123");  // canonical (RFC 5952)
  CHECK(v6.address() == *timepool::address::parse("2001:db8::1"));
}

TEST_CASE("endpoint refuses everything that is not exactly one address and port", "[net]") {
  for (const char* text : {"", ":", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                           "127.0.0.1:+5", "127.0.0.1: 5", "127.0.0.1:5 ", "127.0.0.1:0x10",
                           "::1:53", "[::1]", "[::1]53", "[::1]:", "[127.0.0.1]:53", "[::1:53",
                           "localhost:53", "1.2.3:53", "[fe80::1%eth0]:123", " 127.0.0.1:53",
                           "127.0.0.1:99999999999"}) {
    INFO(text);
    CHECK_FALSE(Endpoint::parse(text));
  }
}

TEST_CASE("endpoint converts to and from sockaddr for both families", "[net]") {
  for (const char* text : {"192.0.2.1:123", "[2001:db8::42]:4242"}) {
    const auto e = *Endpoint::parse(text);
    const auto sa = e.to_sockaddr();
    CHECK(sa.get()->sa_family == e.family());
    CHECK(sa.len == (e.is_v6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in)));
    CHECK(Endpoint::from_sockaddr(sa.storage, sa.len) == e);
    // Too short for its family, or another family: refused.
    CHECK_FALSE(Endpoint::from_sockaddr(sa.storage, sa.len - 1));
  }
  sockaddr_storage unix_ss{};
  unix_ss.ss_family = AF_UNIX;
  CHECK_FALSE(Endpoint::from_sockaddr(unix_ss, sizeof unix_ss));
  CHECK_FALSE(Endpoint::from_sockaddr(nullptr, 0));
  const auto sin = Endpoint::parse("10.1.2.3:8080")->to_sockaddr();
  sockaddr_in raw;
  std::memcpy(&raw, &sin.storage, sizeof raw);
  CHECK(ntohs(raw.sin_port) == 8080);
  CHECK(ntohl(raw.sin_addr.s_addr) == 0x0a010203u);
}

TEST_CASE("endpoint resolves numeric addresses without DNS and reports failures", "[net]") {
  CHECK(Endpoint::resolve("192.0.2.9", 123) == Endpoint::parse("192.0.2.9:123"));
  CHECK(Endpoint::resolve("::1", 5) == Endpoint::parse("[::1]:5"));
  CHECK(Endpoint::resolve("localhost", 77)->port() == 77);
  std::string error;
  CHECK_FALSE(Endpoint::resolve("no-such-host.invalid", 1, &error));
  CHECK(error.find("cannot resolve no-such-host.invalid") == 0);
}

TEST_CASE("bind_socket binds, local_of reports the port, UniqueFd closes", "[net]") {
  int raw = -1;
  {
    UniqueFd fd = bind_socket(*Endpoint::parse("127.0.0.1:0"), SOCK_DGRAM);
    REQUIRE(fd);
    raw = fd.get();
    const auto local = Endpoint::local_of(fd.get());
    REQUIRE(local);
    CHECK(local->address().to_string() == "127.0.0.1");
    CHECK(local->port() != 0);
    // The same port again: refused, with errno.
    UniqueFd again = bind_socket(*local, SOCK_DGRAM);
    CHECK_FALSE(again);
    CHECK(errno == EADDRINUSE);
    UniqueFd moved = std::move(fd);
    CHECK_FALSE(fd);
    CHECK(moved.get() == raw);
    CHECK(fcntl(raw, F_GETFD) >= 0);
  }
  CHECK(fcntl(raw, F_GETFD) == -1);  // closed once its owner went
  UniqueFd a(::dup(0));
  const int b = a.release();
  CHECK_FALSE(a);
  CHECK(fcntl(b, F_GETFD) >= 0);
  a.reset(b);
  a = UniqueFd();
  CHECK(fcntl(b, F_GETFD) == -1);
  CHECK_FALSE(Endpoint::local_of(-1));
}

TEST_CASE("a datagram batch receives several at once, with senders and truncation", "[net]") {
  auto rx = bind_socket(*Endpoint::parse("127.0.0.1:0"), SOCK_DGRAM | SOCK_NONBLOCK);
  auto tx = bind_socket(*Endpoint::parse("127.0.0.1:0"), SOCK_DGRAM);
  REQUIRE(rx);
  REQUIRE(tx);
  const auto to = Endpoint::local_of(rx.get())->to_sockaddr();
  for (const char* text : {"one", "two!", "much too long"}) {
    REQUIRE(::sendto(tx.get(), text, std::strlen(text), 0, to.get(), to.len) ==
            static_cast<ssize_t>(std::strlen(text)));
  }
  timepool::net::DatagramBatch batch(2, 8);
  CHECK(batch.receive(rx.get()) == 2);  // no more than the batch holds
  CHECK(std::string(batch.data(0).begin(), batch.data(0).end()) == "one");
  CHECK(std::string(batch.data(1).begin(), batch.data(1).end()) == "two!");
  CHECK(batch.from(0) == Endpoint::local_of(tx.get()));
  CHECK_FALSE(batch.truncated(1));
  CHECK(batch.receive(rx.get()) == 1);
  CHECK(batch.truncated(0));
  CHECK(batch.data(0).size() == 8);
  CHECK(batch.receive(rx.get()) == 0);  // drained
  // Answering in place: the message goes back to its sender.
  std::memcpy(batch.buffer(0), "reply", 5);
  mmsghdr m = batch.message(0);
  m.msg_hdr.msg_iov->iov_len = 5;
  REQUIRE(::sendmmsg(rx.get(), &m, 1, 0) == 1);
  char buf[16];
  CHECK(::recv(tx.get(), buf, sizeof buf, 0) == 5);
  CHECK(std::string(buf, 5) == "reply");
}
