// core/signals: blocked signals become events; wake() ends a wait.
#include <catch2/catch.hpp>

#include <pthread.h>

#include <thread>

#include "core/signals.hpp"

using namespace std::chrono_literals;
using timepool::signals::Kind;
using timepool::signals::SignalSet;

TEST_CASE("SIGTERM, SIGINT and SIGHUP arrive as events, in the order sent", "[signals]") {
  SignalSet set;
  CHECK_FALSE(set.poll());
  CHECK_FALSE(set.wait(10ms));
  REQUIRE(pthread_kill(pthread_self(), SIGHUP) == 0);
  auto ev = set.wait(1000ms);
  REQUIRE(ev);
  CHECK(ev->kind == Kind::kReload);
  CHECK(ev->name == "SIGHUP");
  REQUIRE(pthread_kill(pthread_self(), SIGTERM) == 0);
  ev = set.wait();
  REQUIRE(ev);
  CHECK(ev->kind == Kind::kStop);
  CHECK(ev->signo == SIGTERM);
  ::raise(SIGINT);
  ev = set.poll();
  REQUIRE(ev);
  CHECK(ev->name == "SIGINT");
  // SIGPIPE is ignored: writing to a closed pipe is an error return.
  int p[2];
  REQUIRE(::pipe(p) == 0);
  ::close(p[0]);
  CHECK(::write(p[1], "x", 1) == -1);
  CHECK(errno == EPIPE);
  ::close(p[1]);
}

TEST_CASE("wake() from another thread ends a wait without an event", "[signals]") {
  SignalSet set;
  std::thread t([&] {
    std::this_thread::sleep_for(50ms);
    set.wake();
  });
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(set.wait());
  CHECK(std::chrono::steady_clock::now() - t0 >= 40ms);
  t.join();
  CHECK(set.fd() >= 0);
}

TEST_CASE("threads started after the set do not take the signals", "[signals]") {
  SignalSet set;
  std::thread t([] {
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, nullptr, &cur);
    CHECK(sigismember(&cur, SIGTERM) == 1);
    CHECK(sigismember(&cur, SIGHUP) == 1);
  });
  t.join();
  ::kill(::getpid(), SIGTERM);  // process-directed: pending until the set reads it
  auto ev = set.wait(1000ms);
  REQUIRE(ev);
  CHECK(ev->signo == SIGTERM);
}
