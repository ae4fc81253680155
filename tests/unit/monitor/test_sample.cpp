#include <catch2/catch.hpp>

#include <vector>

#include "monitor/sample.hpp"

using namespace timepool;
using namespace timepool::monitor;
using scoring::Outcome;

namespace {

PacketSample good(double offset, double delay, int stratum = 2) {
  PacketSample s;
  s.kind = PacketSample::Kind::kReply;
  s.reason = ntp::Reason::kOk;
  s.packet.stratum = static_cast<uint8_t>(stratum);
  s.packet.refid = 0xc0000201;
  s.offset_s = offset;
  s.delay_s = delay;
  return s;
}

PacketSample kiss(const char* code, ntp::Kiss k) {
  PacketSample s;
  s.kind = PacketSample::Kind::kReply;
  s.reason = ntp::Reason::kKissOfDeath;
  s.kiss = k;
  s.packet.stratum = 0;
  s.packet.leap = 3;
  s.packet.refid = (uint32_t(uint8_t(code[0])) << 24) | (uint32_t(uint8_t(code[1])) << 16) |
                   (uint32_t(uint8_t(code[2])) << 8) | uint32_t(uint8_t(code[3]));
  return s;
}

PacketSample bad(ntp::Reason r) {
  PacketSample s;
  s.kind = PacketSample::Kind::kReply;
  s.reason = r;
  s.packet.stratum = 16;
  s.packet.leap = 3;
  return s;
}

PacketSample timeout() { return PacketSample{}; }

PacketSample send_error(const char* e) {
  PacketSample s;
  s.kind = PacketSample::Kind::kSendError;
  s.error = e;
  return s;
}

}  // namespace

TEST_CASE("best sample: the lowest round trip among valid samples", "[sample]") {
  std::vector<PacketSample> v{good(0.010, 0.030), good(0.002, 0.005), good(0.020, 0.010)};
  const auto r = choose_best(v);
  CHECK(r.outcome == Outcome::kSample);
  CHECK(r.ok());
  CHECK(*r.offset_s == 0.002);
  CHECK(*r.rtt_s == 0.005);
  CHECK(*r.stratum == 2);
  CHECK(r.refid == "192.0.2.1");
  CHECK(r.error.empty());
  CHECK(r.packets_sent == 3);
  CHECK(r.replies == 3);
}

TEST_CASE("best sample: no error first", "[sample]") {
  std::vector<PacketSample> v{timeout(), bad(ntp::Reason::kZeroReceive), good(0.5, 0.9)};
  const auto r = choose_best(v);
  CHECK(r.outcome == Outcome::kSample);
  CHECK(*r.offset_s == 0.5);
  CHECK(r.replies == 2);
}

TEST_CASE("best sample: a kiss-o'-death wins even after a good reply", "[sample]") {
  std::vector<PacketSample> v{good(0.001, 0.001), kiss("RATE", ntp::Kiss::kRate)};
  auto r = choose_best(v);
  CHECK(r.outcome == Outcome::kKissRate);
  CHECK(r.error == "kod RATE");
  CHECK(r.kiss == "RATE");
  CHECK_FALSE(r.offset_s);
  v = {kiss("DENY", ntp::Kiss::kDeny)};
  CHECK(choose_best(v).outcome == Outcome::kKissDeny);
  v = {kiss("RSTR", ntp::Kiss::kRstr)};
  CHECK(choose_best(v).outcome == Outcome::kKissRstr);
  v = {timeout(), kiss("INIT", ntp::Kiss::kOther)};
  r = choose_best(v);
  CHECK(r.outcome == Outcome::kKissOther);
  CHECK(r.error == "stratum 0 INIT");
  v = {kiss("STEP", ntp::Kiss::kOther)};
  CHECK(choose_best(v).outcome == Outcome::kKissOther);
  v = {kiss("AUTH", ntp::Kiss::kOther)};
  CHECK(choose_best(v).outcome == Outcome::kKissOther);
}

TEST_CASE("best sample: unsynchronized ends the probe as an error", "[sample]") {
  std::vector<PacketSample> v{good(0.001, 0.001), bad(ntp::Reason::kUnsynchronized)};
  const auto r = choose_best(v);
  CHECK(r.outcome == Outcome::kError);
  CHECK(r.error == "unsynchronized");
  CHECK(*r.stratum == 16);
}

TEST_CASE("best sample: errors without a reply", "[sample]") {
  std::vector<PacketSample> v{timeout(), timeout(), timeout()};
  auto r = choose_best(v);
  CHECK(r.outcome == Outcome::kNoResponse);
  CHECK(r.error == "timeout");
  CHECK(r.packets_sent == 3);
  CHECK(r.replies == 0);
  v = {timeout(), send_error("Network is unreachable")};
  r = choose_best(v);
  CHECK(r.outcome == Outcome::kError);
  CHECK(r.error == "send: Network is unreachable");
  CHECK(r.packets_sent == 1);
  CHECK(r.local_failure);
  CHECK_FALSE(choose_best(std::vector<PacketSample>{timeout()}).local_failure);
  v = {bad(ntp::Reason::kRootDistance), send_error("x")};
  CHECK(choose_best(v).error == "root_distance");
  CHECK(choose_best(std::vector<PacketSample>{}).outcome == Outcome::kNoResponse);
}

TEST_CASE("describe says what was seen", "[sample]") {
  std::vector<PacketSample> v{good(0.0015, 0.0002)};
  const auto text = describe(choose_best(v));
  CHECK(text.find("offset +0.001500 s") != std::string::npos);
  CHECK(text.find("stratum 2") != std::string::npos);
}
