#include <catch2/catch.hpp>

#include "web/zone_demand.hpp"

using namespace timepool::web;

namespace {
constexpr double kHour = 1794999600;  // a whole hour (UTC)
}  // namespace

TEST_CASE("a past hour counts 60 minutes, the current one its minutes so far", "[web][demand]") {
  CHECK(counted_minutes(kHour, kHour + 3 * 3600) == 60);
  CHECK(counted_minutes(kHour, kHour + 3600) == 60);  // the next hour's first minute
  CHECK(counted_minutes(kHour, kHour + 14 * 60) == 15);  // minutes 0..14
  CHECK(counted_minutes(kHour, kHour) == 1);
  CHECK(counted_minutes(kHour, kHour + 59 * 60) == 60);
}

TEST_CASE("the current hour is drawn at its rate so far, not its count over a full hour",
          "[web][demand]") {
  // 30 queries a minute through the previous hour, 120 a minute in the 15 minutes of this one.
  std::vector<DemandHour> hours = {{kHour - 3600, false, 30 * 60}, {kHour, false, 120 * 15},
                                   {kHour, true, 6 * 15}};
  auto series = demand_series(hours, kHour + 14 * 60);
  REQUIRE(series.size() == 2);
  CHECK(series[0].name == "IPv4");
  REQUIRE(series[0].points.size() == 2);
  CHECK(series[0].points[0].t == kHour - 3600);
  CHECK(series[0].points[0].v == Approx(30));
  CHECK(series[0].points[1].t == kHour);
  CHECK(series[0].points[1].v == Approx(120));
  CHECK(series[1].name == "IPv6");
  REQUIRE(series[1].points.size() == 1);
  CHECK(series[1].points[0].v == Approx(6));
  // An hour that is over: its count over 60 minutes, whatever came after.
  auto later = demand_series(hours, kHour + 5 * 3600);
  CHECK(later[0].points[1].v == Approx(30));
  // No IPv6 hours: one series.
  CHECK(demand_series({{kHour, false, 60}}, kHour + 3600).size() == 1);
}
