#include "web/graph.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "web/html.hpp"

namespace timepool::web {

namespace {

constexpr int kLeft = 56, kRight = 10, kTop = 24, kBottom = 28;
// Width of one reduction bucket in user units: each keeps its lowest and highest point, so a
// week of probes from several monitors stays a few thousand vertices and spikes stay visible.
constexpr double kBucket = 2.0;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Two decimals: a minute on a day-wide chart is about half a unit.
std::string num2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string label(double v, const std::string& unit) {
  char buf[32];
  if (std::fabs(v) >= 100 || v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2g", v);
  }
  return std::string(buf) + (unit.empty() ? "" : " " + unit);
}

std::string date_label(double t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%m-%d %H:%M", &tm);
  return buf;
}

// A value for an off-scale label: "+5000 ms", "-1.2e+04 ms", "-250".
std::string value_label(double v, const std::string& unit) {
  char buf[32];
  if (std::fabs(v) >= 1e6) {
    std::snprintf(buf, sizeof buf, "%+.3g", v);
  } else if (std::fabs(v) >= 100) {
    std::snprintf(buf, sizeof buf, "%+.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%+.1f", v);
  }
  return std::string(buf) + (unit.empty() ? "" : " " + unit);
}

constexpr int kMaxOffscaleLabels = 12;

}  // namespace

std::string range_label(double seconds) {
  auto unit = [](double n, const char* one, const char* many) {
    long v = std::max(1L, std::lround(n));
    return "last " + std::to_string(v) + " " + (v == 1 ? one : many);
  };
  if (seconds < 2 * 3600) return unit(seconds / 60, "minute", "minutes");
  if (seconds < 2 * 86400) return unit(seconds / 3600, "hour", "hours");
  return unit(seconds / 86400, "day", "days");
}

namespace {

// The plot area of one chart and the mapping from (time, value) to user units.
struct Frame {
  const ChartSpec& spec;
  int width, height;
  double pw, ph, tspan, yspan;

  Frame(const ChartSpec& sp, int w, int h)
      : spec(sp),
        width(w),
        height(h),
        pw(w - kLeft - kRight),
        ph(h - kTop - kBottom),
        tspan(sp.t1 > sp.t0 ? sp.t1 - sp.t0 : 1),
        yspan(sp.y_max > sp.y_min ? sp.y_max - sp.y_min : 1) {}
  double x_of(double t) const { return kLeft + (t - spec.t0) / tspan * pw; }
  double y_of(double v) const {
    v = std::clamp(v, spec.y_min, spec.y_max);
    return kTop + (spec.y_max - v) / yspan * ph;
  }
};

// The opening tag and title, the frame, y labels at the edges and at the guides, and the
// dates at both ends of the x axis.
void draw_frame(std::string& s, const Frame& f) {
  const ChartSpec& spec = f.spec;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " +
       std::to_string(f.width) + " " + std::to_string(f.height) +
       "\" role=\"img\" aria-label=\"" + esc(spec.title) + "\">";
  s += "<title>" + esc(spec.title) + "</title>";
  s += "<text x=\"" + std::to_string(kLeft) + "\" y=\"16\" class=\"ct\">" + esc(spec.title) +
       "</text>";
  s += "<rect x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(kTop) + "\" width=\"" +
       num(f.pw) + "\" height=\"" + num(f.ph) + "\" class=\"frame\"/>";
  auto ylabel = [&](double v) {
    s += "<text x=\"" + std::to_string(kLeft - 4) + "\" y=\"" + num(f.y_of(v) + 4) +
         "\" class=\"yl\">" + esc(label(v, spec.unit)) + "</text>";
  };
  ylabel(spec.y_max);
  ylabel(spec.y_min);
  for (double g : spec.guides) {
    if (g <= spec.y_min || g >= spec.y_max) continue;
    s += "<line x1=\"" + std::to_string(kLeft) + "\" x2=\"" + num(kLeft + f.pw) + "\" y1=\"" +
         num(f.y_of(g)) + "\" y2=\"" + num(f.y_of(g)) + "\" class=\"guide\"/>";
    ylabel(g);
  }
  s += "<text x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(f.height - 8) +
       "\" class=\"xl\">" + date_label(spec.t0) + " UTC</text>";
  s += "<text x=\"" + num(kLeft + f.pw) + "\" y=\"" + std::to_string(f.height - 8) +
       "\" class=\"xl end\">" + date_label(spec.t1) + " UTC</text>";
}

void draw_bands(std::string& s, const Frame& f) {
  for (const auto& b : f.spec.bands) {
    double a = std::max(b.t0, f.spec.t0), z = std::min(b.t1, f.spec.t1);
    if (z <= a) continue;
    s += "<rect class=\"burst-mark\" x=\"" + num2(f.x_of(a)) + "\" y=\"" + std::to_string(kTop) +
         "\" width=\"" + num2(f.x_of(z) - f.x_of(a)) + "\" height=\"" + num(f.ph) +
         "\" data-t0=\"" + std::to_string(static_cast<long long>(a)) + "\" data-t1=\"" +
         std::to_string(static_cast<long long>(z)) + "\"><title>" + esc(b.label) + "</title></rect>";
  }
}

// Counts per interval as the points of a step line, runs of equal values joined, so a
// one-minute burst is exactly one minute wide and a quiet stretch lies on zero.
std::string step_points(const Frame& f, const ChartSeries& ser) {
  const ChartSpec& spec = f.spec;
  std::string pts;
  double run_v = 0, run_t0 = 0, run_t1 = 0;
  bool open = false;
  auto emit = [&] {
    if (!open) return;
    pts += num2(f.x_of(run_t0)) + ',' + num(f.y_of(run_v)) + ' ' + num2(f.x_of(run_t1)) + ',' +
           num(f.y_of(run_v)) + ' ';
  };
  for (const auto& p : ser.points) {
    if (p.t + spec.step <= spec.t0 || p.t >= spec.t1 || !std::isfinite(p.v)) continue;
    double a = std::max(p.t, spec.t0), z = std::min(p.t + spec.step, spec.t1);
    if (open && p.v == run_v && a <= run_t1) {
      run_t1 = z;
      continue;
    }
    emit();
    open = true;
    run_v = p.v;
    run_t0 = a;
    run_t1 = z;
  }
  emit();
  return pts;
}

// Per bucket the lowest and the highest point (in time order).
std::vector<Point> reduce(const Frame& f, const ChartSeries& ser) {
  std::vector<Point> kept;
  kept.reserve(std::min<size_t>(ser.points.size(), static_cast<size_t>(f.pw / kBucket) * 2 + 4));
  long col = -1;
  Point lo{}, hi{};
  auto flush = [&] {
    if (col < 0) return;
    if (lo.t == hi.t && lo.v == hi.v) {
      kept.push_back(lo);
    } else if (lo.t < hi.t) {
      kept.push_back(lo);
      kept.push_back(hi);
    } else {
      kept.push_back(hi);
      kept.push_back(lo);
    }
  };
  for (const auto& p : ser.points) {
    if (p.t < f.spec.t0 || p.t > f.spec.t1 || !std::isfinite(p.v)) continue;
    long c = std::lround(f.x_of(p.t) / kBucket);
    if (c != col) {
      flush();
      col = c;
      lo = hi = p;
    } else {
      if (p.v < lo.v) lo = p;
      if (p.v > hi.v) hi = p;
    }
  }
  flush();
  return kept;
}

void draw_points(std::string& s, const Frame& f, const std::vector<Point>& kept,
                 const std::string& cls) {
  if (f.spec.dots) {
    s += "<g class=\"" + cls + " dots\">";
    std::string path;
    for (const auto& p : kept) {
      path += 'M';
      path += num(f.x_of(p.t));
      path += ' ';
      path += num(f.y_of(p.v));
      path += "h0.1";
    }
    s += "<path d=\"" + path + "\"/></g>";
    return;
  }
  s += "<polyline class=\"" + cls + " line\" points=\"";
  for (const auto& p : kept) {
    s += num(f.x_of(p.t));
    s += ',';
    s += num(f.y_of(p.v));
    s += ' ';
  }
  s += "\"/>";
}

// Off-scale points: a triangle at the edge pointing outwards for each, and the most extreme
// value of each run as text, so a 5 s offset on a +-1000 ms chart is not read as 1000 ms.
void draw_offscale(std::string& s, const Frame& f, const std::vector<Point>& kept,
                   const std::string& cls, const std::string& name) {
  const ChartSpec& spec = f.spec;
  std::string marks, labels;
  double run_extreme = 0, run_x = 0;
  bool in_run = false, run_high = false;
  int n_labels = 0;
  auto close_run = [&] {
    if (!in_run) return;
    in_run = false;
    if (n_labels++ >= kMaxOffscaleLabels) return;
    double y = run_high ? kTop + 18 : kTop + f.ph - 10;
    double x = std::clamp(run_x + 6, static_cast<double>(kLeft) + 2, kLeft + f.pw - 70);
    labels += "<text class=\"offscale-label " + cls + "t\" x=\"" + num(x) + "\" y=\"" +
              num(y) + "\">" + esc(value_label(run_extreme, spec.unit)) + "</text>";
  };
  for (const auto& p : kept) {
    bool high = p.v > spec.y_max, low = p.v < spec.y_min;
    if (!high && !low) {
      close_run();
      continue;
    }
    double x = f.x_of(p.t);
    // The triangle's tip touches the frame edge; its base lies inside the plot.
    marks += high ? "M" + num(x) + " " + num(kTop) + "l-4 7h8z"
                  : "M" + num(x) + " " + num(kTop + f.ph) + "l-4 -7h8z";
    if (in_run && high == run_high) {
      if (high ? p.v > run_extreme : p.v < run_extreme) run_extreme = p.v;
      continue;
    }
    close_run();
    in_run = true;
    run_high = high;
    run_extreme = p.v;
    run_x = x;
  }
  close_run();
  if (marks.empty()) return;
  s += "<path class=\"offscale " + cls + "f\" d=\"" + marks + "\"><title>" + esc(name) +
       ": values beyond the chart's range, drawn at its edge</title></path>" + labels;
}

// The legend entry of the index-th series (from 1).
void draw_legend(std::string& s, const Frame& f, const std::string& cls, const std::string& name,
                 int index) {
  s += "<text x=\"" + num(kLeft + f.pw - 4) + "\" y=\"" + std::to_string(kTop + 14 * index) +
       "\" class=\"legend end " + cls + "t\">" + esc(name) + "</text>";
}

}  // namespace

std::string svg_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series, int width,
                      int height) {
  const Frame f(spec, width, height);
  std::string s;
  s.reserve(16384);
  draw_frame(s, f);
  draw_bands(s, f);
  int index = 0;
  for (const auto& ser : series) {
    std::string cls = std::string("s").append(std::to_string(index++ % 6));
    if (spec.step > 0) {
      const std::string pts = step_points(f, ser);
      if (pts.empty()) continue;
      s += "<polyline class=\"" + cls + " line step\" points=\"" + pts + "\"/>";
    } else {
      const std::vector<Point> kept = reduce(f, ser);
      if (kept.empty()) continue;
      draw_points(s, f, kept, cls);
      draw_offscale(s, f, kept, cls, ser.name);
    }
    draw_legend(s, f, cls, ser.name, index);
  }
  s += "</svg>";
  return s;
}

}  // namespace timepool::web
