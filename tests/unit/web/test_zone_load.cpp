#include <catch2/catch.hpp>
#include <regex>

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
  std::string html = burst_warnings_html({stored(findings[0], "acme")}, "bursts");
  CHECK(html.find("id=\"bursts\"") != std::string::npos);
  CHECK(html.find("every Sunday at 19:45 UTC your devices send 40 times your normal load") !=
        std::string::npos);
  CHECK(html.find("data-period=\"weekly\"") != std::string::npos);
  CHECK(html.find("Spread the polls at random") != std::string::npos);
  CHECK(count(html, "<li") == 1);
}

TEST_CASE("missing minutes and hours count as zero", "[web][load]") {
  auto s = dense_series(600, 600 + 10 * 60, 60, {{600 + 3 * 60, 500}, {600 + 4 * 60, 7}});
  REQUIRE(s.points.size() == 10);
  CHECK(s.points[0].t == 600);
  CHECK(s.points[3].v == 500);
  CHECK(s.points[4].v == 7);
  CHECK(s.points[5].v == 0);
  CHECK(s.points[9].t == 600 + 9 * 60);
  // A range that does not start on a step boundary begins at the next one.
  auto h = dense_series(1000, 1000 + 3 * 3600, 3600, {{3600, 5}});
  REQUIRE(h.points.size() == 3);
  CHECK(h.points[0].t == 3600);
  CHECK(h.points[0].v == 5);
}

TEST_CASE("load charts draw a one-minute burst one minute wide and mark its window",
          "[web][load]") {
  // A near-empty day with 500 queries in the minute 19:45: with the gaps as zeros, the step
  // line rises and falls within that minute (no ten-hour triangle).
  double t0 = 0, t1 = 86400;
  auto minutes = dense_series(t0, t1, 60, {{(19 * 60 + 45) * 60.0, 500}});
  auto hours = dense_series(0, 90 * 86400.0, 3600, {{19 * 3600.0, 500}});
  StoredFinding f;
  f.warning = "every Sunday at 19:45 UTC";
  f.windows = {{19 * 60 + 45, 19 * 60 + 45}};
  std::string html = load_charts(minutes, hours, {f});
  CHECK(count(html, "<svg") == 2);
  CHECK(html.find("DNS queries per minute (last 24 hours)") != std::string::npos);
  CHECK(html.find("DNS queries per hour (last 90 days)") != std::string::npos);
  CHECK(html.find(">550<") != std::string::npos);  // the y axis reaches above the peak
  // Plot width 734 units over 1440 minutes: one minute is 0.51 units.
  std::smatch m;
  REQUIRE(std::regex_search(html, m, std::regex("class=\"burst-mark\" x=\"([0-9.]+)\" y=\"[0-9]+\" "
                                                "width=\"([0-9.]+)\"")));
  CHECK(std::stod(m[2]) == Approx(734.0 / 1440).epsilon(0.02));
  CHECK(std::stod(m[1]) == Approx(56 + 734.0 * (19 * 60 + 45) / 1440).epsilon(0.001));
  // The step line: flat at zero, up at 19:45, down at 19:46, one minute apart.
  REQUIRE(std::regex_search(html, m, std::regex("class=\"s0 line step\" points=\"([^\"]*)\"")));
  std::string pts = m[1];
  std::regex pair("([0-9.]+),([0-9.]+)");
  std::vector<std::pair<double, double>> xy;
  for (auto it = std::sregex_iterator(pts.begin(), pts.end(), pair); it != std::sregex_iterator(); ++it) {
    xy.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
  }
  REQUIRE(xy.size() == 6);  // zero run, the burst minute, zero run: two points each
  CHECK(xy[2].second < xy[0].second);  // the burst is higher (smaller y)
  CHECK(xy[3].first - xy[2].first == Approx(734.0 / 1440).epsilon(0.02));
  CHECK(xy[4].second == xy[0].second);
}
