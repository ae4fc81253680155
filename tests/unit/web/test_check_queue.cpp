#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "web/check_queue.hpp"

using namespace timepool;
using namespace timepool::web;

namespace {

// A probe that waits until the test opens the gate, then answers stratum 2.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void release() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
  ProbeReport probe() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return open; });
    ProbeReport r;
    r.answered = true;
    r.stratum = 2;
    return r;
  }
};

AddRequest add(const char* a) { return AddRequest{*address::parse(a), 1500, "de"}; }

std::optional<CheckJob> wait_done(CheckQueue& q, const std::string& id, int64_t account) {
  for (int i = 0; i < 500; ++i) {
    auto j = q.find(id, account);
    if (!j || j->done) return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("client networks: IPv4 addresses, IPv6 /64", "[web][check_queue]") {
  CHECK(client_network("192.0.2.7") == "192.0.2.7");
  CHECK(client_network("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
  CHECK(client_network("2001:db8:1:2::9") == client_network("2001:db8:1:2:ffff::1"));
  CHECK(client_network("") == "");
}

TEST_CASE("checks are limited per account, per client and in all", "[web][check_queue]") {
  Gate gate;
  CheckQueue q([&](const address::Address&, uint16_t) { return gate.probe(); }, 123, 2, 2, 3);
  std::string id1, id2, id3, id4;
  REQUIRE(q.start(1, "198.51.100.1", add("203.0.113.1"), &id1) == CheckQueue::Start::kStarted);
  CHECK(id1.size() == 32);
  // One check per account at a time.
  CHECK(q.start(1, "198.51.100.9", add("203.0.113.2"), &id2) == CheckQueue::Start::kAccountBusy);
  // Two per client network.
  REQUIRE(q.start(2, "198.51.100.1", add("203.0.113.3"), &id2) == CheckQueue::Start::kStarted);
  CHECK(q.start(3, "198.51.100.1", add("203.0.113.4"), &id3) == CheckQueue::Start::kClientBusy);
  // Three in all.
  REQUIRE(q.start(3, "198.51.100.2", add("203.0.113.4"), &id3) == CheckQueue::Start::kStarted);
  CHECK(q.start(4, "198.51.100.3", add("203.0.113.5"), &id4) == CheckQueue::Start::kFull);
  // Nobody else sees a check.
  CHECK_FALSE(q.find(id1, 2));
  auto j = q.find(id1, 1);
  REQUIRE(j);
  CHECK_FALSE(j->done);
  CHECK_FALSE(q.claim(id1));  // not done yet
  gate.release();
  j = wait_done(q, id1, 1);
  REQUIRE(j);
  CHECK(j->done);
  CHECK(j->report.stratum == 2);
  CHECK(j->add.address.to_string() == "203.0.113.1");
  // The add is finished once.
  CHECK(q.claim(id1));
  CHECK_FALSE(q.claim(id1));
  q.record(id1, 200, "", 42);
  j = q.find(id1, 1);
  CHECK(j->finished);
  CHECK(j->server_id == 42);
  // Done checks no longer count: the account may start the next one.
  REQUIRE(wait_done(q, id2, 2));
  REQUIRE(wait_done(q, id3, 3));
  CHECK(q.start(1, "198.51.100.1", add("203.0.113.6"), &id4) == CheckQueue::Start::kStarted);
}

TEST_CASE("a probe that throws ends its check with the reason", "[web][check_queue]") {
  CheckQueue q([](const address::Address&, uint16_t) -> ProbeReport {
    throw std::runtime_error("no socket");
  }, 123, 1, 1, 1);
  std::string id;
  REQUIRE(q.start(1, "x", add("203.0.113.1"), &id) == CheckQueue::Start::kStarted);
  auto j = wait_done(q, id, 1);
  REQUIRE(j);
  CHECK_FALSE(j->report.answered);
  CHECK(j->report.error == "no socket");
}
