// pg::Backoff: exponential growth from min to max, full jitter inside [min, current], reset.
#include <catch2/catch.hpp>

#include "core/pg.hpp"

using namespace std::chrono_literals;
using timepool::pg::Backoff;

TEST_CASE("the upper bound doubles from min up to max", "[backoff]") {
  Backoff b(100ms, 3000ms);
  // With unit_random just below 1 the delay is (almost) the current upper bound.
  const double top = 0.999999;
  CHECK(b.next(top) == 100ms);  // the first attempt waits min: [100, 100]
  CHECK(b.next(top) == 199ms);
  CHECK(b.next(top) == 399ms);
  CHECK(b.next(top) == 799ms);
  CHECK(b.next(top) == 1599ms);
  CHECK(b.next(top) == 2999ms);  // 3200 capped at max
  CHECK(b.next(top) == 2999ms);
  CHECK(b.attempts() == 7);
}

TEST_CASE("unit_random 0 gives min, and stays inside [min, max]", "[backoff]") {
  Backoff b(250ms, 60s);
  for (int i = 0; i < 100; ++i) CHECK(b.next(0.0) == 250ms);
  Backoff c(250ms, 60s);
  for (int i = 0; i < 200; ++i) {  // far past the doubling that would overflow an int64
    auto d = c.next(0.5);
    CHECK(d >= 250ms);
    CHECK(d <= 60s);
  }
  CHECK(c.next(0.5) == 250ms + (60000ms - 250ms) / 2);
  // Out-of-range randoms are clamped, never beyond the bounds.
  CHECK(c.next(7.0) == 60s);
  CHECK(c.next(-1.0) == 250ms);
}

TEST_CASE("reset starts from min again", "[backoff]") {
  Backoff b(10ms, 1000ms);
  for (int i = 0; i < 5; ++i) b.next(0.99);
  CHECK(b.next(1.0) == 320ms);
  b.reset();
  CHECK(b.attempts() == 0);
  CHECK(b.next(1.0) == 10ms);
  CHECK(b.next(1.0) == 20ms);
}

TEST_CASE("max below min means a constant delay", "[backoff]") {
  Backoff b(500ms, 100ms);
  CHECK(b.next(0.9) == 500ms);
  CHECK(b.next(0.9) == 500ms);
}

TEST_CASE("float parameters are exact and spelled as PostgreSQL reads them", "[backoff][pg]") {
  using timepool::pg::float_text;
  using timepool::pg::to_param;
  CHECK(float_text(0.1) == "0.1");
  CHECK(float_text(1e-7 / 3) == "3.3333333333333334e-08");
  CHECK(float_text(-0.0001234) == "-0.0001234");
  CHECK(float_text(1.0 / 0.0) == "Infinity");
  CHECK(float_text(-1.0 / 0.0) == "-Infinity");
  CHECK(to_param(2.5).text == "2.5");
  CHECK(to_param(true).text == "true");
  CHECK(to_param(int64_t{-5}).text == "-5");
  CHECK_FALSE(to_param(std::nullopt).text.has_value());
  CHECK_FALSE(to_param(std::optional<int>{}).text.has_value());
  CHECK(to_param(std::optional<int>{3}).text == "3");
  CHECK(to_param("abc").text == "abc");
}
