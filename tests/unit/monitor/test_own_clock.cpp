// monitor/own_clock: the kernel's verdict and the reference servers' verdict.
#include <catch2/catch.hpp>

#include "monitor/own_clock.hpp"

using namespace timepool::monitor;
using std::chrono::microseconds;

TEST_CASE("own clock: the kernel's maximum error counts, not only the estimated one", "[clock]") {
  ClockReading r;
  r.synchronized = true;
  r.esterror = microseconds(50);
  r.maxerror = microseconds(200000);
  auto v = judge_clock(r, microseconds(100000), false);
  CHECK_FALSE(v.ok);
  CHECK(v.reason == "maximum error 200000 us above 100000 us");
  r.maxerror = microseconds(90000);
  CHECK(judge_clock(r, microseconds(100000), false).ok);
}

TEST_CASE("own clock: the median of the reference servers decides", "[clock]") {
  // 300 ms ahead: every reference server looks 300 ms behind.
  auto v = judge_references({-0.301, -0.299, -0.300}, 0.010);
  CHECK_FALSE(v.ok);
  CHECK(v.answered == 3);
  CHECK(*v.median_s == Approx(-0.300));
  CHECK(v.reason == "the median offset of 3 reference servers is -300.0 ms, more than 10.0 ms");
  // One reference server that is itself wrong does not move the median.
  v = judge_references({0.001, -0.002, 5.0}, 0.010);
  CHECK(v.ok);
  CHECK(*v.median_s == Approx(0.001));
  // Even count: the mean of the middle two.
  v = judge_references({0.004, 0.008, std::nullopt, 0.0, 0.002}, 0.010);
  CHECK(v.ok);
  CHECK(*v.median_s == Approx(0.003));
  // The threshold is inclusive and sign-blind.
  CHECK(judge_references({0.010}, 0.010).ok);
  CHECK_FALSE(judge_references({-0.0101}, 0.010).ok);
}

TEST_CASE("own clock: at most half of the reference servers answering is not good", "[clock]") {
  auto v = judge_references({0.0, std::nullopt}, 0.010);
  CHECK_FALSE(v.ok);
  CHECK(v.reason == "only 1 of 2 reference servers answered");
  v = judge_references({std::nullopt, std::nullopt, std::nullopt}, 0.010);
  CHECK_FALSE(v.ok);
  CHECK_FALSE(v.median_s);
  CHECK(judge_references({0.0, 0.0, std::nullopt}, 0.010).ok);
  CHECK_FALSE(judge_references({}, 0.010).ok);
}
