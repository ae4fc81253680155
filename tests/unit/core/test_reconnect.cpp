// Backoff: exponential growth from min to max, full jitter inside [min, current], reset.
// Reconnect: the state of one link, its retry time and which transitions are logged.
#include <catch2/catch.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <thread>

#include "core/reconnect.hpp"

using namespace std::chrono_literals;
using timepool::Backoff;
using timepool::Reconnect;

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

namespace {

struct Captured {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> log;
  Captured() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    sink->set_pattern("%l %v");
    log = std::make_shared<spdlog::logger>("reconnect-test", sink);
    log->set_level(spdlog::level::info);
  }
  int lines() const {
    const auto s = out.str();
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
  }
};

}  // namespace

TEST_CASE("reconnect logs the first failure and the recovery, not every failure", "[reconnect]") {
  Captured c;
  int queued = 7;
  Reconnect link("database", c.log, {100ms, 1000ms}, [&] { return std::to_string(queued) + " queued"; },
                 [] { return 0.999999; });
  const auto t0 = Reconnect::Clock::time_point{} + 1h;
  CHECK(link.up());
  CHECK(link.due(t0));
  CHECK(link.failed("connection refused", t0) == 100ms);
  CHECK_FALSE(link.up());
  CHECK(link.retry_at() == t0 + 100ms);
  CHECK_FALSE(link.due(t0 + 99ms));
  CHECK(link.due(t0 + 100ms));
  CHECK(c.lines() == 1);
  CHECK(c.out.str() == "warning database unavailable (connection refused); 7 queued\n");
  CHECK(link.failed("again", t0 + 100ms) == 199ms);
  CHECK(link.failed("again", t0 + 300ms) == 399ms);
  CHECK(c.lines() == 1);  // repeats are debug only
  CHECK(link.failures() == 3);
  queued = 0;
  link.succeeded(t0 + 2500ms);
  CHECK(link.up());
  CHECK(link.failures() == 0);
  CHECK(c.lines() == 2);
  CHECK(c.out.str().find("info database is back after 2.5 s and 3 failed attempts; 0 queued\n") !=
        std::string::npos);
  link.succeeded(t0 + 3s);  // up already: nothing to say
  CHECK(c.lines() == 2);
  // The backoff starts from min again.
  CHECK(link.failed("x", t0 + 4s) == 100ms);
  CHECK(c.lines() == 3);
}

TEST_CASE("reconnect wait ends at retry_at or when stopped", "[reconnect]") {
  Reconnect link("link", nullptr, {30ms, 30ms});
  std::atomic<bool> stop{false};
  CHECK(link.wait(stop));  // up: no wait
  // t0 before failed(): the retry time is counted from the failure, so a thread that is
  // descheduled between the two calls must not make the wait look shorter than it was.
  const auto t0 = std::chrono::steady_clock::now();
  link.failed("x");
  CHECK(link.wait(stop));
  CHECK(std::chrono::steady_clock::now() - t0 >= 30ms);
  link.failed("x");
  stop = true;
  CHECK_FALSE(link.wait(stop));
}

TEST_CASE("reconnect waits as long as the other side asked, within its bounds", "[reconnect]") {
  Reconnect link("monitor API", nullptr, {200ms, 30s}, nullptr, [] { return 0.0; });
  const auto t0 = Reconnect::Clock::time_point{} + 1h;
  // A 503 with Retry-After: 5 waits 5 s, not the backoff's 200 ms.
  CHECK(link.failed("HTTP 503", t0, 5000ms) == 5000ms);
  CHECK(link.retry_at() == t0 + 5s);
  // Asked for less than the minimum or more than the maximum: bounded.
  CHECK(link.failed("HTTP 503", t0, 0ms) == 200ms);
  CHECK(link.failed("HTTP 503", t0, 3600s) == 30s);
  // Without an answer to go by, the backoff as before.
  CHECK(link.failed("no answer", t0) == 200ms);
}
