// Inline SVG charts for the score page: no scripts, no external assets, readable without CSS.
// Pure functions: the same points always give the same SVG.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace timepool::web {

struct Point {
  double t;  // epoch seconds
  double v;
};

struct ChartSeries {
  std::string name;  // legend text (escaped)
  std::vector<Point> points;  // sorted by t
};

// A marked time range (a burst window), drawn as a shaded band behind the series.
struct Band {
  double t0, t1;      // epoch seconds, [t0, t1)
  std::string label;  // tooltip text (escaped)
};

struct ChartSpec {
  std::string title;
  std::string unit;             // "" or "ms"
  double t0 = 0, t1 = 1;        // time range shown
  // Values outside are drawn at the edge with an off-scale mark: a triangle pointing out of the
  // frame and the value itself (class "offscale", one label per run of off-scale points).
  double y_min = 0, y_max = 1;
  std::vector<double> guides;   // horizontal reference lines (e.g. score 10)
  bool dots = false;            // dots instead of lines (offsets)
  // > 0: each point is a count for [t, t + step) seconds, drawn as a step line (a flat top
  // exactly that wide); points must then cover the range without gaps (zeros included).
  double step = 0;
  std::vector<Band> bands;
};

// One chart, `width` x `height` in user units (scales with the page: viewBox). Many points are
// reduced per 2-unit bucket to their minimum and maximum, so the SVG stays small for long
// histories and spikes stay visible.
std::string svg_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series,
                      int width = 800, int height = 220);

// The span a chart really shows, for its title: "last 15 minutes", "last 5 hours",
// "last 2 days", "last 7 days" (rounded to the nearest whole unit, at least 1).
std::string range_label(double seconds);

}  // namespace timepool::web
