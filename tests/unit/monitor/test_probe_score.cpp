// monitor/probe_score: the daemon's step for one finished probe.
#include <catch2/catch.hpp>

#include "monitor/probe_score.hpp"

using namespace timepool;
using namespace timepool::monitor;
using scoring::Outcome;

namespace {

const ntp::TimePoint kStarted{std::chrono::nanoseconds(1700000000123456789)};

ProbeResult sample(double offset, int stratum = 2) {
  ProbeResult r;
  r.outcome = Outcome::kSample;
  r.offset_s = offset;
  r.rtt_s = 0.01;
  r.stratum = stratum;
  r.leap = 0;
  return r;
}

}  // namespace

TEST_CASE("probe score: a good sample steps +1 and makes the record to write", "[probe_score]") {
  const auto s = score_probe(42, sample(0.001), kStarted, 10, true);
  REQUIRE(s.scored());
  CHECK(s.step.step == 1);
  CHECK(s.score == Approx(0.95 * 10 + 1));
  CHECK(s.record.server_id == 42);
  CHECK(s.record.score == s.score);
  CHECK(s.record.step == 1);
  CHECK(s.record.offset_s == 0.001);
  CHECK(s.record.rtt_s == 0.01);
  CHECK(s.record.stratum == 2);
  CHECK(s.record.leap == 0);
  CHECK_FALSE(s.record.error);
  // The start time is kept to the microsecond (the probe log's precision).
  CHECK(s.record.ts.time_since_epoch() == std::chrono::microseconds(1700000000123456));
}

TEST_CASE("probe score: errors carry their text and the table's caps", "[probe_score]") {
  ProbeResult deny;
  deny.outcome = Outcome::kKissDeny;
  deny.error = "kod DENY";
  deny.stratum = 0;
  deny.leap = 3;
  const auto s = score_probe(1, deny, kStarted, 20, true);
  REQUIRE(s.scored());
  CHECK(s.step.step == -10);
  CHECK(s.score == -50);  // 0.95 * 20 - 10 = 9, capped at -50
  CHECK(s.record.error == "kod DENY");
  ProbeResult silent;
  silent.error = "timeout";
  CHECK(score_probe(1, silent, kStarted, 0, true).score == -5);
}

TEST_CASE("probe score: nothing is scored with a bad own clock or a local failure", "[probe_score]") {
  auto s = score_probe(1, sample(0), kStarted, 7, false);
  CHECK(s.unscored == Unscored::kOwnClock);
  CHECK(s.score == 7);
  ProbeResult local;
  local.outcome = Outcome::kError;
  local.error = "send: Network is unreachable";
  local.local_failure = true;
  s = score_probe(1, local, kStarted, 7, true);
  CHECK(s.unscored == Unscored::kLocalFailure);
  CHECK(s.score == 7);
}
