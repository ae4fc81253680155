#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>

#include "monitor/schedule.hpp"
#include "tests/support/seed.hpp"

using namespace timepool;
using namespace timepool::monitor;
using namespace std::chrono_literals;
using Clock = Schedule::Clock;

namespace {

std::vector<ServerRef> servers(int64_t first, int64_t n) {
  std::vector<ServerRef> v;
  const auto a = *address::parse("192.0.2.1");
  for (int64_t i = first; i < first + n; ++i) v.push_back(ServerRef{i, net::Endpoint(a, 123)});
  return v;
}

// Runs the schedule over [t0, t0 + span) in 1-second steps, finishing every probe at once;
// returns probe start times (seconds after t0) per server.
std::map<int64_t, std::vector<int64_t>> simulate(Schedule& s, Clock::time_point t0, std::chrono::seconds span,
                                                 const std::function<bool(int64_t)>& rate = nullptr) {
  std::map<int64_t, std::vector<int64_t>> starts;
  for (auto t = t0; t < t0 + span; t += 1s) {
    for (const auto& r : s.take_due(t, 1000000)) {
      starts[r.id].push_back(std::chrono::duration_cast<std::chrono::seconds>(t - t0).count());
      s.probe_done(r.id, t, rate ? rate(r.id) : false);
    }
  }
  return starts;
}

}  // namespace

TEST_CASE("schedule: servers spread evenly over the interval, no burst", "[schedule]") {
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  Schedule s(540s, 60s, 16, seed);
  const auto t0 = Clock::time_point{} + 1000h;
  s.set_servers(servers(1, 10000), t0);
  std::vector<int> per_second(540, 0);
  for (int sec = 0; sec < 540; ++sec) {
    for (const auto& r : s.take_due(t0 + std::chrono::seconds(sec + 1) - 1ns, 1000000)) {
      (void)r;
      ++per_second[static_cast<std::size_t>(sec)];
    }
  }
  int total = 0;
  for (int c : per_second) total += c;
  CHECK(total == 10000);
  // 10000 / 540 = 18.5 a second; stratified phases keep every second within one of that.
  const auto [mn, mx] = std::minmax_element(per_second.begin(), per_second.end());
  CHECK(*mn >= 17);
  CHECK(*mx <= 20);
  // The first second of every minute is no busier than any other.
  for (int m = 0; m < 9; ++m) CHECK(per_second[static_cast<std::size_t>(m * 60)] <= 20);
}

TEST_CASE("schedule: each server keeps its phase, one probe per interval", "[schedule]") {
  Schedule s(60s, 10s, 16, 42);
  const auto t0 = Clock::time_point{} + 1000h;
  s.set_servers(servers(1, 50), t0);
  auto starts = simulate(s, t0, 600s);
  REQUIRE(starts.size() == 50);
  for (auto& [id, ts] : starts) {
    INFO(id);
    CHECK(ts.size() >= 9);
    CHECK(ts.size() <= 10);
    for (std::size_t i = 1; i < ts.size(); ++i) CHECK(ts[i] - ts[i - 1] == 60);
  }
}

TEST_CASE("schedule: a new server is probed within the window, then on the interval", "[schedule]") {
  Schedule s(540s, 60s, 16, 7);
  const auto t0 = Clock::time_point{} + 1000h;
  s.set_servers(servers(1, 100), t0);
  simulate(s, t0, 100s);
  const auto t1 = t0 + 100s;
  s.set_servers(servers(1, 101), t1);  // server 101 is new
  CHECK(s.size() == 101);
  auto starts = simulate(s, t1, 1200s);
  REQUIRE(starts.count(101));
  CHECK(starts[101][0] < 60);
  REQUIRE(starts[101].size() >= 2);
  CHECK(starts[101][1] - starts[101][0] == 540);
}

TEST_CASE("schedule: a server starting from an empty list is still probed soon", "[schedule]") {
  Schedule s(540s, 60s, 16, 9);
  const auto t0 = Clock::time_point{} + 1000h;
  s.set_servers({}, t0);
  s.set_servers(servers(5, 1), t0 + 1s);
  auto starts = simulate(s, t0 + 1s, 70s);
  REQUIRE(starts.count(5));
  CHECK(starts[5][0] < 60);
}

TEST_CASE("schedule: removed servers stop - in-flight ones are not handed out twice", "[schedule]") {
  Schedule s(10s, 5s, 16, 3);
  const auto t0 = Clock::time_point{} + 1000h;
  s.set_servers(servers(1, 3), t0);
  auto due = s.take_due(t0 + 10s, 100);
  CHECK(due.size() == 3);
  CHECK(s.take_due(t0 + 100s, 100).empty());  // all in flight
  s.set_servers(servers(1, 2), t0 + 11s);     // server 3 removed while in flight
  for (auto& r : due) s.probe_done(r.id, t0 + 11s, false);
  CHECK_FALSE(s.contains(3));
  auto starts = simulate(s, t0 + 12s, 100s);
  CHECK(starts.count(1));
  CHECK(starts.count(2));
  CHECK_FALSE(starts.count(3));
}

TEST_CASE("schedule: an unreachable or late server is never probed faster", "[schedule]") {
  Schedule s(10s, 5s, 16, 11);
  const auto t0 = Clock::time_point{} + 1000h;
  s.set_servers(servers(1, 1), t0);
  auto first = s.take_due(t0 + 10s, 10);
  REQUIRE(first.size() == 1);
  // The probe took 35 s (longer than three intervals): the next is on the grid, after now.
  s.probe_done(1, t0 + 45s, false);
  auto next = s.next_due();
  REQUIRE(next);
  CHECK(*next > t0 + 45s);
  CHECK(*next <= t0 + 55s);
}

TEST_CASE("schedule: RATE backs off, a normal answer resets", "[schedule]") {
  Schedule s(10s, 1s, 8, 5);
  const auto t0 = Clock::time_point{} + 1000h;
  s.set_servers(servers(1, 1), t0);
  bool rate = true;
  auto starts = simulate(s, t0, 200s, [&](int64_t) { return rate; });
  auto& ts = starts[1];
  REQUIRE(ts.size() >= 4);
  CHECK(ts[1] - ts[0] == 20);
  CHECK(ts[2] - ts[1] == 40);
  CHECK(ts[3] - ts[2] == 80);  // capped at 8x
  CHECK(s.backoff(1) == 8);
  // One normal answer: back to the interval.
  rate = false;
  auto t = t0 + std::chrono::seconds(ts.back());
  auto more = simulate(s, t, 400s);
  REQUIRE(more[1].size() >= 3);
  const auto n = more[1].size();
  CHECK(more[1][n - 1] - more[1][n - 2] == 10);
  CHECK(s.backoff(1) == 1);
}

namespace {

ServerRef hinted(int64_t id, Clock::time_point due, std::chrono::milliseconds cycle,
                 int64_t recheck_key = 0, Clock::time_point recheck_due = {}) {
  ServerRef r = servers(id, 1)[0];
  SlotHint h;
  h.cycle = cycle;
  h.due = due;
  h.recheck_key = recheck_key;
  h.recheck_due = recheck_due;
  r.hint = h;
  return r;
}

}  // namespace

TEST_CASE("schedule: the API's slot replaces the random phase and sets the cycle", "[schedule]") {
  Schedule s(60s, 10s, 16, 1);
  const Clock::time_point t0{};
  s.set_servers({hinted(1, t0 + 37s, 120s), hinted(2, t0 + 5s, 7200s)}, t0);
  CHECK(*s.due_of(1) == t0 + 37s);
  CHECK(s.cycle_of(1) == 120s);
  CHECK(s.cycle_of(2) == 7200s);  // a slow server
  const auto starts = simulate(s, t0, 400s);
  CHECK(starts.at(1) == std::vector<int64_t>{37, 157, 277, 397});
  CHECK(starts.at(2) == std::vector<int64_t>{5});
}

TEST_CASE("schedule: a slot already probed is not probed twice", "[schedule]") {
  Schedule s(60s, 10s, 16, 1);
  const Clock::time_point t0{};
  s.set_servers({hinted(1, t0 + 10s, 60s)}, t0);
  simulate(s, t0, 11s);  // probed at 10 s, next at 70 s
  CHECK(*s.due_of(1) == t0 + 70s);
  // An assignment computed just before that probe names the same slot again: kept at 70 s.
  s.set_servers({hinted(1, t0 + 10s, 60s)}, t0 + 12s);
  CHECK(*s.due_of(1) == t0 + 70s);
  // The slow cycle starts at the slot the API names.
  s.set_servers({hinted(1, t0 + 900s, 7200s)}, t0 + 20s);
  CHECK(*s.due_of(1) == t0 + 900s);
}

TEST_CASE("schedule: a re-check is probed at once, once", "[schedule]") {
  Schedule s(60s, 10s, 16, 1);
  const Clock::time_point t0{};
  s.set_servers({hinted(1, t0 + 3000s, 7200s)}, t0);
  // The re-check slot passed 4 s ago: due now.
  s.set_servers({hinted(1, t0 + 596s, 540s, 42, t0 + 46s)}, t0 + 50s);
  CHECK(*s.due_of(1) == t0 + 50s);
  auto due = s.take_due(t0 + 50s, 10);
  REQUIRE(due.size() == 1);
  s.probe_done(1, t0 + 51s, false);
  // The next assignment names the same re-check: not again; the normal slot follows.
  s.set_servers({hinted(1, t0 + 596s, 540s, 42, t0 + 46s)}, t0 + 60s);
  CHECK(*s.due_of(1) == t0 + 596s);
  // A later re-check (another key) is probed again.
  s.set_servers({hinted(1, t0 + 596s, 540s, 43, t0 + 100s)}, t0 + 70s);
  CHECK(*s.due_of(1) == t0 + 100s);
}

TEST_CASE("schedule: a short cycle is not pushed back by frequent assignments", "[schedule]") {
  // A 300 ms cycle with the assignment fetched every 100 ms: every slot is still probed.
  Schedule s(300ms, 10ms, 16, 1);
  const Clock::time_point t0{};
  int probes = 0;
  for (auto t = t0; t < t0 + 3000ms; t += 10ms) {
    if ((t - t0) % 100ms == 0ms) {
      // The API's next slot at or after t: the grid 0, 300, 600 ...
      const auto next = t0 + ((t - t0 + 299ms) / 300ms) * 300ms;
      s.set_servers({hinted(1, next, 300ms)}, t);
    }
    for (const auto& r : s.take_due(t, 10)) {
      ++probes;
      s.probe_done(r.id, t + 5ms, false);
    }
  }
  CHECK(probes == 10);
}

TEST_CASE("schedule: slots of probes that take a while are all probed", "[schedule]") {
  // A 1 s cycle, the assignment every 500 ms (computed a few ms before it arrives), probes of
  // 400 ms: one probe a second.
  Schedule s(1000ms, 10ms, 16, 1);
  const Clock::time_point t0{};
  int probes = 0;
  std::optional<Clock::time_point> done_at;
  for (auto t = t0; t < t0 + 10000ms; t += 10ms) {
    if ((t - t0) % 500ms == 0ms) {
      const auto api_now = t - 5ms;
      const auto next = t0 + 465ms + ((api_now - t0 - 465ms + 999ms) / 1000ms) * 1000ms;
      s.set_servers({hinted(1, next, 1000ms)}, t);
    }
    if (done_at && t >= *done_at) {
      s.probe_done(1, t, false);
      done_at.reset();
    }
    if (!s.take_due(t, 10).empty()) {
      ++probes;
      done_at = t + 400ms;
    }
  }
  CHECK(probes == 10);
}
