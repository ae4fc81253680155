#include <catch2/catch.hpp>

#include "web/graph.hpp"

using namespace timepool::web;

namespace {
size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("charts are self-contained SVG with escaped text", "[web][graph]") {
  ChartSpec spec;
  spec.title = "Score <x>";
  spec.t0 = 0;
  spec.t1 = 1000;
  spec.y_min = -20;
  spec.y_max = 20;
  spec.guides = {10};
  ChartSeries s{"mon\"1", {{0, 0}, {500, 10}, {1000, 20}}};
  auto svg = svg_chart(spec, {s});
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("</svg>") == svg.size() - 6);
  CHECK(svg.find("Score &lt;x&gt;") != std::string::npos);
  CHECK(svg.find("mon&quot;1") != std::string::npos);
  CHECK(svg.find("<x>") == std::string::npos);
  CHECK(count(svg, "<polyline") == 1);
  CHECK(count(svg, "class=\"guide\"") == 1);
  CHECK(svg.find("http://") == svg.find("http://www.w3.org/2000/svg"));  // no external refs
}

TEST_CASE("long histories are reduced per pixel column", "[web][graph]") {
  ChartSpec spec;
  spec.t0 = 0;
  spec.t1 = 7 * 86400;
  spec.y_min = -100;
  spec.y_max = 20;
  ChartSeries s{"m", {}};
  for (int i = 0; i < 7 * 24 * 50; ++i) s.points.push_back({i * 72.0, (i % 7) * 1.0});
  auto svg = svg_chart(spec, {s}, 800, 220);
  // At most 2 vertices per 2-unit bucket of the 734-unit plot.
  CHECK(count(svg, ",") <= 740);
  CHECK(count(svg, ",") >= 700);  // and the whole week is drawn
  CHECK(svg.size() < 20000);
  // Out-of-range values are clamped to the frame, never drawn outside it.
  ChartSeries wild{"w", {{10, 1e9}, {20, -1e9}}};
  auto svg2 = svg_chart(spec, {wild});
  // Coordinates stay on the frame; only the off-scale labels give the real values.
  auto marks = svg2.find("<path class=\"offscale");
  REQUIRE(marks != std::string::npos);
  CHECK(svg2.substr(0, marks).find("e+") == std::string::npos);
  CHECK(svg2.find(">+1e+09</text>") != std::string::npos);
}

TEST_CASE("an empty history gives an empty frame", "[web][graph]") {
  ChartSpec spec;
  auto svg = svg_chart(spec, {});
  CHECK(svg.find("<polyline") == std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
}

TEST_CASE("off-scale points are marked at the edge with their value", "[web][graph]") {
  ChartSpec spec;
  spec.t0 = 0;
  spec.t1 = 1000;
  spec.y_min = -1000;
  spec.y_max = 1000;
  spec.unit = "ms";
  spec.dots = true;
  // A 5 s offset twice in a row, one in range, then -7 s.
  ChartSeries s{"m", {{100, 5000}, {200, 4800}, {500, 3}, {800, -7000}}};
  auto svg = svg_chart(spec, {s});
  CHECK(count(svg, "class=\"offscale ") == 1);
  CHECK(count(svg, "l-4 7h8z") == 2);   // two triangles at the top edge
  CHECK(count(svg, "l-4 -7h8z") == 1);  // one at the bottom edge
  CHECK(count(svg, "class=\"offscale-label") == 2);  // one label per run
  CHECK(svg.find(">+5000 ms</text>") != std::string::npos);
  CHECK(svg.find(">-7000 ms</text>") != std::string::npos);
  // Nothing off scale: no marks.
  ChartSeries calm{"m", {{100, 5}, {200, -5}}};
  CHECK(svg_chart(spec, {calm}).find("offscale") == std::string::npos);
}

TEST_CASE("range labels name the span really shown", "[web][graph]") {
  CHECK(range_label(15 * 60) == "last 15 minutes");
  CHECK(range_label(60) == "last 1 minute");
  CHECK(range_label(5 * 3600) == "last 5 hours");
  CHECK(range_label(7 * 86400) == "last 7 days");
  CHECK(range_label(0) == "last 1 minute");
}
