#include <catch2/catch.hpp>

#include "core/bursts.hpp"
#include "web/zone_load.hpp"

using namespace timepool;
using namespace timepool::web;

namespace {
size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("burst warnings carry the finding's sentence and the advice", "[web][load]") {
  CHECK(burst_warnings_html({}, "bursts").empty());
  // A week-spaced spike at Sunday 19:45 UTC over a flat series, found by the real detector.
  std::vector<stats::MinuteCount> series;
  int64_t start = 1795000000 / 60 / 10080 * 10080;  // a Thursday 00:00 (epoch weeks start Thursday)
  for (int64_t m = start; m < start + 3 * 10080; ++m) {
    bool spike = stats::weekday_of(m) == 0 && (m % 1440) == 19 * 60 + 45;
    series.push_back({m, spike ? 800u : 20u});
  }
  auto findings = stats::find_bursts(series);
  REQUIRE(findings.size() == 1);
  std::string html = burst_warnings_html(findings, "bursts");
  CHECK(html.find("id=\"bursts\"") != std::string::npos);
  CHECK(html.find("every Sunday at 19:45 UTC your devices send 40 times your normal load") !=
        std::string::npos);
  CHECK(html.find("Spread the polls at random") != std::string::npos);
  CHECK(count(html, "<li") == 1);
}

TEST_CASE("load charts draw the minute and the hour series", "[web][load]") {
  LoadSeries minutes{0, 86400, {{60, 5}, {120, 500}}};
  LoadSeries hours{0, 90 * 86400.0, {{3600, 300}}};
  std::string html = load_charts(minutes, hours);
  CHECK(count(html, "<svg") == 2);
  CHECK(html.find("DNS queries per minute (last 24 hours)") != std::string::npos);
  CHECK(html.find("DNS queries per hour (last 90 days)") != std::string::npos);
  // The y axis reaches above the highest count, so the spike is not clipped.
  CHECK(html.find(">550<") != std::string::npos);
}
