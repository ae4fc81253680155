// monitor/shift: the central comparison of each monitor's offsets with the other monitors'.
#include <catch2/catch.hpp>

#include <random>

#include "monitor/shift.hpp"

using namespace timepool::monitor;

namespace {

const MonitorShift& of(const std::vector<MonitorShift>& v, int id) {
  for (const auto& m : v) {
    if (m.monitor_id == id) return m;
  }
  FAIL("monitor " << id << " not found");
  return v.front();
}

}  // namespace

TEST_CASE("shift: a monitor 300 ms wrong stands out, the others do not", "[shift]") {
  std::mt19937_64 rng(1130);
  INFO("seed 1130");
  std::normal_distribution<double> noise(0, 0.002);
  std::vector<PairOffset> pairs;
  for (int64_t server = 1; server <= 20; ++server) {
    const double own = (server % 5 == 0) ? 0.5 : 0.0;  // some servers are themselves off
    for (int monitor = 1; monitor <= 5; ++monitor) {
      // Monitor 5's clock is 300 ms ahead: it sees every server 300 ms behind.
      const double wrong = monitor == 5 ? -0.300 : 0.0;
      pairs.push_back({monitor, server, own + wrong + noise(rng)});
    }
  }
  const auto v = find_shifts(pairs, {});
  REQUIRE(v.size() == 5);
  CHECK(of(v, 5).shifted);
  CHECK(of(v, 5).shift_s == Approx(-0.300).margin(0.01));
  CHECK(of(v, 5).servers == 20);
  for (int m = 1; m <= 4; ++m) {
    CHECK_FALSE(of(v, m).shifted);
    CHECK(std::fabs(of(v, m).shift_s) < 0.01);
  }
}

TEST_CASE("shift: too few monitors or servers decide nothing", "[shift]") {
  // Two monitors of a server: which one is wrong cannot be told.
  std::vector<PairOffset> two{{1, 1, 0.0}, {2, 1, 0.3}};
  CHECK(find_shifts(two, {}).empty());
  // Three monitors on two servers: below min_servers (3), no verdict.
  std::vector<PairOffset> few{{1, 1, 0}, {2, 1, 0}, {3, 1, 0.3}, {1, 2, 0}, {2, 2, 0}, {3, 2, 0.3}};
  const auto v = find_shifts(few, {});
  CHECK(of(v, 3).servers == 2);
  CHECK(of(v, 3).shift_s == Approx(0.3));
  CHECK_FALSE(of(v, 3).shifted);
  ShiftSettings loose;
  loose.min_servers = 2;
  CHECK(of(find_shifts(few, loose), 3).shifted);
  // Within the threshold: not shifted.
  std::vector<PairOffset> near{{1, 1, 0}, {2, 1, 0}, {3, 1, 0.02}, {1, 2, 0}, {2, 2, 0},
                               {3, 2, 0.02}, {1, 3, 0}, {2, 3, 0}, {3, 3, 0.02}};
  CHECK_FALSE(of(find_shifts(near, {}), 3).shifted);
}
