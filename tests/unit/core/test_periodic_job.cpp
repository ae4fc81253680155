// PeriodicJob: the first round at start, the interval or the round's own delay between rounds,
// backoff after a failing round, wake() and a prompt stop().
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "core/periodic_job.hpp"

using namespace std::chrono_literals;
using timepool::PeriodicJob;

namespace {

bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return cond();
}

}  // namespace

TEST_CASE("the first round runs at start, the next after the interval", "[periodic_job]") {
  std::atomic<int> n{0};
  PeriodicJob job("test job", 1h, [&] {
    ++n;
    return std::optional<std::chrono::milliseconds>();
  }, nullptr);
  job.start();
  REQUIRE(wait_for([&] { return n == 1; }));
  std::this_thread::sleep_for(50ms);
  CHECK(n == 1);  // the hour has not passed
  job.wake();     // but a wake runs it now
  REQUIRE(wait_for([&] { return n == 2; }));
  auto t0 = std::chrono::steady_clock::now();
  job.stop();  // returns at once although the next round is an hour away
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  CHECK(job.rounds() == 2);
  CHECK(job.failures() == 0);
}

TEST_CASE("a round may ask for a shorter delay", "[periodic_job]") {
  std::atomic<int> n{0};
  PeriodicJob job("test job", 1h, [&] {
    ++n;
    return std::optional<std::chrono::milliseconds>(n < 5 ? 1ms : 1h);
  }, nullptr);
  job.start();
  REQUIRE(wait_for([&] { return n == 5; }));
  std::this_thread::sleep_for(30ms);
  CHECK(n == 5);
}

TEST_CASE("a failing round is retried with backoff, then the interval resumes",
          "[periodic_job]") {
  std::atomic<int> calls{0};
  PeriodicJob job(
      "test job", 1h,
      [&]() -> std::optional<std::chrono::milliseconds> {
        if (++calls <= 3) throw std::runtime_error("connection refused");
        return std::nullopt;
      },
      nullptr, {5ms, 20ms});
  auto t0 = std::chrono::steady_clock::now();
  job.start();
  REQUIRE(wait_for([&] { return calls == 4; }));
  // Three failures waited at least the minimum backoff each.
  CHECK(std::chrono::steady_clock::now() - t0 >= 15ms);
  std::this_thread::sleep_for(50ms);
  CHECK(calls == 4);  // success: back to the hour's interval
  CHECK(job.failures() == 3);
  CHECK(job.rounds() == 1);
}

TEST_CASE("with_connection drops the connection after a failure and opens it again",
          "[periodic_job]") {
  // No server listens on this port: every open fails, the round itself never runs.
  int ran = 0;
  auto round = timepool::with_connection(
      "host=127.0.0.1 port=1 connect_timeout=2", [&](timepool::pg::Connection&) {
        ++ran;
        return std::optional<std::chrono::milliseconds>();
      });
  CHECK_THROWS(round());
  CHECK_THROWS(round());
  CHECK(ran == 0);
}

TEST_CASE("stop before start and twice is harmless", "[periodic_job]") {
  PeriodicJob job("test job", 1s, [] { return std::optional<std::chrono::milliseconds>(); },
                  nullptr);
  job.stop();
  job.start();  // after stop: does not start
  job.stop();
  CHECK(job.rounds() == 0);
}
