#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <cmath>
#include <map>
#include <memory>

#include "tests/support/fake_ntp_server.hpp"
#include "monitor/probe_once.hpp"
#include "monitor/prober.hpp"

using namespace timepool;
using namespace timepool::monitor;
using Fake = timepool::test::FakeNtpServer;
using namespace std::chrono_literals;

namespace {

ProbeOptions fast() {
  ProbeOptions o;
  o.spacing = 50ms;
  o.timeout = 200ms;
  return o;
}

ProbeResult probe(const Fake& f, ProbeOptions o = fast()) {
  return probe_once("127.0.0.1", f.port(), o);
}

}  // namespace

TEST_CASE("prober: a good server gives a sample near its offset", "[prober]") {
  Fake ok(Fake::Behaviour::kGood);
  auto r = probe(ok);
  CHECK(r.ok());
  CHECK(r.error.empty());
  CHECK(std::fabs(*r.offset_s) < 0.005);
  CHECK(*r.rtt_s >= 0);
  CHECK(*r.rtt_s < 0.05);
  CHECK(*r.stratum == 2);
  CHECK(r.packets_sent == 3);
  CHECK(r.replies == 3);
  CHECK(ok.requests() == 3);
  CHECK(r.checks == "1111|1111");

  Fake ahead(Fake::Behaviour::kGood, "127.0.0.1", 0, 5.0);
  r = probe(ahead);
  REQUIRE(r.ok());
  CHECK(*r.offset_s == Approx(5.0).margin(0.01));
}

TEST_CASE("prober: silent server times out after every packet", "[prober]") {
  Fake silent(Fake::Behaviour::kSilent);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = probe(silent);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(r.outcome == scoring::Outcome::kNoResponse);
  CHECK(r.error == "timeout");
  CHECK(silent.requests() == 3);
  // 2 spacings + one timeout.
  CHECK(took >= 290ms);
  CHECK(took < 1000ms);
}

TEST_CASE("prober: replies with a wrong origin or from another port are ignored", "[prober]") {
  Fake wrong(Fake::Behaviour::kWrongOrigin);
  auto r = probe(wrong);
  CHECK(r.outcome == scoring::Outcome::kNoResponse);
  CHECK(r.replies == 0);
  Fake other(Fake::Behaviour::kOtherPort);
  r = probe(other);
  CHECK(r.outcome == scoring::Outcome::kNoResponse);
  CHECK(r.replies == 0);
  Fake version(Fake::Behaviour::kWrongVersion);
  r = probe(version);
  CHECK(r.outcome == scoring::Outcome::kNoResponse);
}

TEST_CASE("prober: an NTPv3 server's replies are samples, not timeouts", "[prober]") {
  Fake v3(Fake::Behaviour::kVersion3, "127.0.0.1", 0, 0.25);
  auto r = probe(v3);
  REQUIRE(r.ok());
  CHECK(r.outcome == scoring::Outcome::kSample);
  CHECK(*r.offset_s == Approx(0.25).margin(0.01));
}

TEST_CASE("prober: kiss-o'-death ends the probe at once", "[prober]") {
  for (const char* code : {"RATE", "DENY", "RSTR", "INIT"}) {
    Fake kod(Fake::Behaviour::kKiss, "127.0.0.1", 0, 0, code);
    auto r = probe(kod);
    INFO(code);
    CHECK(r.packets_sent == 1);
    CHECK(kod.requests() == 1);
    CHECK(r.kiss == code);
  }
  Fake rate(Fake::Behaviour::kKiss, "127.0.0.1", 0, 0, "RATE");
  CHECK(probe(rate).outcome == scoring::Outcome::kKissRate);
  Fake unsync(Fake::Behaviour::kUnsynchronized);
  auto r = probe(unsync);
  CHECK(r.outcome == scoring::Outcome::kError);
  CHECK(r.error == "unsynchronized");
  CHECK(r.packets_sent == 1);
}

TEST_CASE("prober: the transmit timestamp is random, not our clock", "[prober]") {
  // Capture two requests with a plain socket.
  auto sock = net::bind_socket(*net::Endpoint::parse("127.0.0.1:0"), SOCK_DGRAM);
  REQUIRE(sock);
  const int fd = sock.get();
  const uint16_t port = net::Endpoint::local_of(fd)->port();
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ProbeOptions o = fast();
  o.packets = 2;
  o.timeout = 50ms;
  std::thread t([&] { probe_once("127.0.0.1", port, o); });
  std::vector<uint64_t> tx;
  for (int i = 0; i < 2; ++i) {
    uint8_t buf[100];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    REQUIRE(n == 48);
    auto p = ntp::decode(std::span<const uint8_t>(buf, 48));
    CHECK(p->mode == ntp::Mode::kClient);
    CHECK(p->origin == 0);
    CHECK(p->receive == 0);
    tx.push_back(p->transmit);
  }
  t.join();
  CHECK(tx[0] != tx[1]);
  // Neither is within a day of the current time.
  const uint64_t now = ntp::to_ntp(std::chrono::system_clock::now());
  for (auto x : tx) CHECK(std::fabs(ntp::diff_seconds(x, now)) > 86400);
}

TEST_CASE("prober: many concurrent probes each get their own result", "[prober]") {
  Fake ok(Fake::Behaviour::kGood);
  Fake silent(Fake::Behaviour::kSilent);
  std::map<uint64_t, ProbeResult> results;
  Prober p(fast(), [&](uint64_t tag, const ProbeResult& r, ntp::TimePoint) { results[tag] = r; });
  const auto a = *address::parse("127.0.0.1");
  for (uint64_t i = 0; i < 200; ++i) p.start(i, net::Endpoint(a, i % 2 ? silent.port() : ok.port()));
  CHECK(p.in_flight() == 200);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (results.size() < 200 && std::chrono::steady_clock::now() < deadline) p.poll(100ms);
  REQUIRE(results.size() == 200);
  for (auto& [tag, r] : results) {
    INFO(tag);
    CHECK(r.ok() == (tag % 2 == 0));
  }
  CHECK(p.in_flight() == 0);
  CHECK(p.stats().packets_sent == 600);
  CHECK(p.stats().replies == 300);
}

TEST_CASE("prober: IPv6", "[prober][v6]") {
  std::unique_ptr<Fake> ok;
  try {
    ok = std::make_unique<Fake>(Fake::Behaviour::kGood, "::1");
  } catch (const std::exception& e) {
    // CI and the local run have ::1; without it this test would pass without checking IPv6.
    FAIL("no IPv6 loopback (::1) here: " << e.what());
  }
  auto r = probe_once("::1", ok->port(), fast());
  CHECK(r.ok());
  CHECK(r.replies == 3);
  CHECK(*r.stratum == 2);
  Fake other(Fake::Behaviour::kOtherPort, "::1");
  CHECK(probe_once("::1", other.port(), fast()).outcome == scoring::Outcome::kNoResponse);
}

TEST_CASE("probe_once reports an unresolvable name", "[prober]") {
  auto r = probe_once("no-such-host.invalid", 123, fast());
  CHECK(r.outcome == scoring::Outcome::kError);
  CHECK(r.error.find("cannot resolve") != std::string::npos);
}

TEST_CASE("prober: garbage sprayed at its port is dropped, the probe still succeeds", "[prober]") {
  Fake ok(Fake::Behaviour::kGood);
  std::optional<ProbeResult> result;
  ProbeOptions o = fast();
  Prober p(o, [&](uint64_t, const ProbeResult& r, ntp::TimePoint) { result = r; });
  auto sock = net::bind_socket(*net::Endpoint::parse("127.0.0.1:0"), SOCK_DGRAM);
  REQUIRE(sock);
  const int fd = sock.get();
  const auto to = net::Endpoint(*address::parse("127.0.0.1"), p.local_port_v4()).to_sockaddr();
  // Every truncated length, a few oversized and odd ones, and well-formed replies to nothing.
  std::vector<uint8_t> junk(1500, 0x24);
  for (std::size_t n = 0; n <= 49; ++n) sendto(fd, junk.data(), n, 0, to.get(), to.len);
  for (std::size_t n : {51, 1025, 1028, 1500}) sendto(fd, junk.data(), n, 0, to.get(), to.len);
  p.start(1, net::Endpoint(*address::parse("127.0.0.1"), ok.port()));
  for (int i = 0; i < 20; ++i) {
    ntp::Packet fake_reply;
    fake_reply.mode = ntp::Mode::kServer;
    fake_reply.stratum = 1;
    fake_reply.origin = 0x1234 + static_cast<uint64_t>(i);
    fake_reply.receive = fake_reply.transmit = 99;
    auto b = ntp::encode(fake_reply);
    sendto(fd, b.data(), b.size(), 0, to.get(), to.len);
  }
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!result && std::chrono::steady_clock::now() < deadline) p.poll(50ms);
  REQUIRE(result);
  CHECK(result->ok());
  CHECK(result->replies == 3);
  CHECK(p.stats().unsolicited >= 70);
}
