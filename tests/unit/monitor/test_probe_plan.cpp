// monitor/probe_plan: the central slots that space all monitors' probes of one server.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "monitor/probe_plan.hpp"

using namespace timepool::monitor;
using std::chrono::milliseconds;

namespace {

const int64_t kNow = 1700000000000;

// Every probe time of every monitor of `s` within [from, from + span).
std::vector<int64_t> all_probes(const PlanServer& s, int slots, int64_t from, int64_t span,
                                const PlanSettings& p) {
  std::vector<int64_t> out;
  for (int j = 0; j < slots; ++j) {
    const Slot slot = plan_slot(s, j, slots, from, p);
    for (int64_t t = slot.next_due_ms; t < from + span; t += slot.cycle_ms) out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t min_gap(const std::vector<int64_t>& v) {
  int64_t gap = INT64_MAX;
  for (std::size_t i = 1; i < v.size(); ++i) gap = std::min(gap, v[i] - v[i - 1]);
  return gap;
}

}  // namespace

TEST_CASE("plan: each monitor probes each server once per interval, never before now", "[plan]") {
  PlanSettings p;
  for (int64_t id : {1, 2, 42, 50000}) {
    const Slot s = plan_slot({id, 15, {}}, 0, 1, kNow, p);
    CHECK_FALSE(s.slow);
    CHECK(s.cycle_ms == 540000);
    CHECK(s.next_due_ms >= kNow);
    CHECK(s.next_due_ms < kNow + 540000);
    // The same slot asked for again later is the same point of the cycle.
    const Slot later = plan_slot({id, 15, {}}, 0, 1, kNow + 100000, p);
    CHECK((later.next_due_ms - s.next_due_ms) % s.cycle_ms == 0);
  }
  // Servers spread over the cycle: 1000 servers fill every ninth of it.
  std::vector<int> ninths(9);
  for (int64_t id = 1; id <= 1000; ++id) {
    ++ninths[static_cast<std::size_t>((plan_slot({id, 15, {}}, 0, 1, kNow, p).next_due_ms - kNow) /
                                      60000)];
  }
  for (int n : ninths) CHECK(n > 60);
}

TEST_CASE("plan: all monitors together keep the minimum spacing", "[plan]") {
  PlanSettings p;
  p.min_spacing = milliseconds(60000);
  // 7 monitors in 9 minutes: 77 s apart.
  auto v = all_probes({7, 15, {}}, 7, kNow, 3 * 540000, p);
  CHECK(v.size() >= 20);
  CHECK(min_gap(v) >= 60000);
  CHECK(min_gap(v) == 540000 / 7);
  // 20 monitors cannot all probe every 9 minutes 60 s apart: the cycle stretches to 20 min.
  const Slot s = plan_slot({7, 15, {}}, 3, 20, kNow, p);
  CHECK(s.cycle_ms == 20 * 60000);
  v = all_probes({7, 15, {}}, 20, kNow, 3 * 20 * 60000, p);
  CHECK(min_gap(v) >= 60000);
  // A larger spacing is honoured too, whatever the server and the number of monitors.
  std::mt19937_64 rng(20261130);
  INFO("seed 20261130");
  for (int i = 0; i < 200; ++i) {
    p.min_spacing = milliseconds(1000 + static_cast<int64_t>(rng() % 300000));
    const int slots = 1 + static_cast<int>(rng() % 30);
    const PlanServer srv{static_cast<int64_t>(rng() % 100000), 15, {}};
    const Slot s0 = plan_slot(srv, 0, slots, kNow, p);
    v = all_probes(srv, slots, kNow, 2 * s0.cycle_ms, p);
    if (v.size() > 1) CHECK(min_gap(v) >= p.min_spacing.count());
  }
}

TEST_CASE("plan: a very low score (DENY, RSTR, long silence) is probed every 2 hours", "[plan]") {
  PlanSettings p;
  const Slot deny = plan_slot({9, -50, {}}, 0, 5, kNow, p);  // DENY caps the score at -50
  CHECK(deny.slow);
  CHECK(deny.cycle_ms == 7200000);
  CHECK(plan_slot({9, -40, {}}, 0, 5, kNow, p).slow);
  CHECK_FALSE(plan_slot({9, -39.9, {}}, 0, 5, kNow, p).slow);
  CHECK_FALSE(plan_slot({9, 5, {}}, 0, 5, kNow, p).slow);
  // Configurable.
  p.slow_interval = milliseconds(3600000);
  p.slow_below_score = -20;
  CHECK(plan_slot({9, -25, {}}, 0, 5, kNow, p).cycle_ms == 3600000);
  // Five monitors of a slow server: five probes in 2 hours in all, 24 minutes apart.
  p = PlanSettings{};
  const auto v = all_probes({9, -60, {}}, 5, kNow, 7200000, p);
  CHECK(v.size() == 5);
  CHECK(min_gap(v) == 7200000 / 5);
}

TEST_CASE("plan: a re-check is due at once and lifts the slow cycle for a while", "[plan]") {
  PlanSettings p;
  const int64_t asked = kNow - 5000;  // asked 5 s ago
  const PlanServer s{9, -50, asked};
  const Slot first = plan_slot(s, 0, 5, kNow, p);
  CHECK(first.recheck);
  CHECK_FALSE(first.slow);
  CHECK(first.cycle_ms == 540000);
  CHECK(first.recheck_due_ms == asked);  // due at once (already due)
  CHECK(first.next_due_ms == asked + 540000);
  // The other monitors follow at their spacing.
  const Slot second = plan_slot(s, 1, 5, kNow, p);
  CHECK(second.recheck_due_ms == asked + 540000 / 5);
  CHECK(second.next_due_ms == asked + 540000 / 5);
  // After the window the slow cycle is back and the server's own anchor with it.
  const Slot after = plan_slot(s, 0, 5, asked + 3600000, p);
  CHECK(after.slow);
  CHECK_FALSE(after.recheck);
  CHECK(after.recheck_due_ms == 0);
  // A request "from the future" (clocks) is ignored until its time.
  CHECK_FALSE(plan_slot({9, -50, kNow + 60000}, 0, 5, kNow, p).recheck);
}
