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
  CHECK(svg2.find("e+") == std::string::npos);
}

TEST_CASE("an empty history gives an empty frame", "[web][graph]") {
  ChartSpec spec;
  auto svg = svg_chart(spec, {});
  CHECK(svg.find("<polyline") == std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
}
