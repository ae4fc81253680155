#include "web/zone_load.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/minute_series.hpp"
#include "web/html.hpp"

namespace timepool::web {

namespace {

constexpr const char* kIsoFmt = "'YYYY-MM-DD\"T\"HH24:MI\"Z\"'";

std::string chart(const std::string& title, const LoadSeries& s, std::vector<Band> bands) {
  double peak = 1;
  for (const auto& p : s.points) peak = std::max(peak, p.v);
  ChartSpec spec;
  spec.title = title;
  spec.t0 = s.t0;
  spec.t1 = s.t1;
  spec.y_min = 0;
  spec.y_max = std::ceil(peak * 1.1);
  spec.step = s.step;
  spec.bands = std::move(bands);
  return "<figure>" + svg_chart(spec, {ChartSeries{"queries", s.points}}) + "</figure>";
}

LoadSeries hourly(pg::Connection& db, const char* sql, int64_t id, double now, int hours) {
  LoadSeries out;
  out.t1 = now;
  out.t0 = now - hours * 3600.0;
  out.step = 3600;
  auto r = db.exec(sql, id, hours);
  for (int i = 0; i < r.rows(); ++i) out.points.push_back({r.get<double>(i, 0), r.get<double>(i, 1)});
  return out;
}

std::vector<int64_t> parse_int_array(std::string_view a) {
  std::vector<int64_t> out;
  if (a.size() < 2) return out;
  a = a.substr(1, a.size() - 2);
  size_t i = 0;
  while (i < a.size()) {
    size_t comma = a.find(',', i);
    if (comma == std::string_view::npos) comma = a.size();
    out.push_back(std::strtoll(std::string(a.substr(i, comma - i)).c_str(), nullptr, 10));
    i = comma + 1;
  }
  return out;
}

std::string finding_select() {
  return std::string(
             "SELECT z.name, f.kind, f.period, f.weekdays, f.window_start, f.window_minutes, "
             "f.typical_count, f.factor, to_char(f.first_seen AT TIME ZONE 'UTC', ") +
         kIsoFmt + "), to_char(f.last_seen AT TIME ZONE 'UTC', " + kIsoFmt +
         "), f.window_starts::text, f.window_ends::text, f.warning "
         "FROM zone_findings f JOIN zones z ON z.id = f.zone_id ";
}

constexpr const char* kFindingOrder =
    " ORDER BY z.name, f.kind = 'once', f.window_start, f.fkey";

std::vector<StoredFinding> read_findings(const pg::Result& r) {
  std::vector<StoredFinding> out;
  for (int i = 0; i < r.rows(); ++i) {
    StoredFinding f;
    f.zone = r.get<std::string>(i, 0);
    f.kind = r.get<std::string>(i, 1);
    f.period = r.get<std::string>(i, 2);
    f.weekdays = r.get<int32_t>(i, 3);
    f.window_start = r.get<int32_t>(i, 4);
    f.window_minutes = r.get<int32_t>(i, 5);
    f.typical_count = r.get<int64_t>(i, 6);
    f.factor = r.get<double>(i, 7);
    f.first_seen = r.get<std::string>(i, 8);
    f.last_seen = r.get<std::string>(i, 9);
    auto starts = parse_int_array(r.text(i, 10));
    auto ends = parse_int_array(r.text(i, 11));
    for (size_t k = 0; k < starts.size() && k < ends.size(); ++k) f.windows.emplace_back(starts[k], ends[k]);
    f.warning = r.get<std::string>(i, 12);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Band> bands_of(const std::vector<StoredFinding>& findings, double step) {
  std::vector<Band> out;
  for (const auto& f : findings) {
    for (const auto& [a, b] : f.windows) {
      double t0 = static_cast<double>(a) * 60, t1 = static_cast<double>(b + 1) * 60;
      if (step > 60) {  // whole hours on the hourly chart
        t0 = std::floor(t0 / step) * step;
        t1 = std::ceil(t1 / step) * step;
      }
      out.push_back({t0, t1, f.warning});
    }
  }
  return out;
}

}  // namespace

double now_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<int32_t> zone_id_by_name(pg::Connection& db, const std::string& name) {
  auto r = db.exec("SELECT id FROM zones WHERE name = $1", name);
  if (r.rows() != 1) return std::nullopt;
  return r.get<int32_t>(0, 0);
}

std::vector<stats::MinuteCount> minute_counts(pg::Connection& db, int32_t zone_id,
                                              int64_t from_minute, int64_t to_minute) {
  return stats::read_minute_series(db, zone_id, from_minute, to_minute);
}

LoadSeries dense_series(double t0, double t1, double step, const std::vector<Point>& sparse) {
  LoadSeries out;
  out.t0 = t0;
  out.t1 = t1;
  out.step = step;
  double first = std::ceil(t0 / step) * step;
  size_t n = t1 > first ? static_cast<size_t>(std::ceil((t1 - first) / step)) : 0;
  out.points.reserve(n);
  for (size_t i = 0; i < n; ++i) out.points.push_back({first + static_cast<double>(i) * step, 0});
  for (const auto& p : sparse) {
    double k = std::floor((p.t - first) / step);
    if (k < 0 || k >= static_cast<double>(n)) continue;
    out.points[static_cast<size_t>(k)].v += p.v;
  }
  return out;
}

LoadSeries minute_series(pg::Connection& db, int32_t zone_id, double now) {
  int64_t to = static_cast<int64_t>(now) / 60 + 1;
  int64_t from = to - kMinuteSeriesHours * 60;
  std::vector<Point> pts;
  for (const auto& m : minute_counts(db, zone_id, from, to)) {
    pts.push_back({static_cast<double>(m.minute) * 60, static_cast<double>(m.count)});
  }
  return dense_series(static_cast<double>(from) * 60, static_cast<double>(to) * 60, 60, pts);
}

LoadSeries hour_series(pg::Connection& db, int32_t zone_id, double now) {
  auto s = hourly(db,
                  "SELECT extract(epoch FROM hour)::float8, sum(count)::float8 "
                  "FROM dns_query_counts_hourly WHERE zone_id = $1 "
                  "AND hour >= date_trunc('hour', now()) - make_interval(hours => $2::int) "
                  "GROUP BY hour ORDER BY hour",
                  zone_id, now, kHourSeriesDays * 24);
  double to = (std::floor(now / 3600) + 1) * 3600;
  return dense_series(to - kHourSeriesDays * 86400.0, to, 3600, s.points);
}

LoadSeries answer_series(pg::Connection& db, int64_t server_id, double now) {
  return hourly(db,
                "SELECT extract(epoch FROM hour)::float8, count::float8 FROM dns_server_answers "
                "WHERE server_id = $1 "
                "AND hour >= date_trunc('hour', now()) - make_interval(hours => $2::int) "
                "ORDER BY hour",
                server_id, now, 24);
}

std::vector<StoredFinding> zone_findings(pg::Connection& db, int32_t zone_id) {
  return read_findings(db.exec(finding_select() + "WHERE f.zone_id = $1" + kFindingOrder, zone_id));
}

std::vector<StoredFinding> vendor_zone_findings(pg::Connection& db, int limit, int64_t* total) {
  *total = db.exec("SELECT count(*) FROM zone_findings f JOIN zones z ON z.id = f.zone_id "
                   "WHERE z.kind = 'vendor'")
               .get<int64_t>(0, 0);
  return read_findings(db.exec(finding_select() +
                                   "WHERE z.kind = 'vendor' ORDER BY f.last_seen DESC, z.name, "
                                   "f.fkey LIMIT $1",
                               limit));
}

std::vector<StoredFinding> all_zone_findings(pg::Connection& db) {
  return read_findings(db.exec(finding_select() + kFindingOrder));
}

std::string findings_updated(pg::Connection& db) {
  auto r = db.exec(std::string("SELECT to_char(finished_at AT TIME ZONE 'UTC', ") + kIsoFmt +
                   ") FROM zone_findings_runs");
  return r.rows() == 1 ? r.get<std::string>(0, 0) : "";
}

StoredFinding stored(const stats::BurstFinding& f, const std::string& zone) {
  StoredFinding s;
  s.zone = zone;
  s.kind = f.period == stats::BurstFinding::Period::Once ? "once" : "recurring";
  s.period = stats::period_name(f.period);
  s.weekdays = static_cast<int>(f.weekdays);
  s.window_start = f.minute_of_day;
  s.window_minutes = f.window_minutes;
  s.typical_count = static_cast<int64_t>(f.typical_count);
  s.factor = f.typical_factor;
  for (const auto& e : f.events) s.windows.emplace_back(e.start, e.end);
  s.warning = f.warning;
  return s;
}

std::string load_charts(const LoadSeries& minutes, const LoadSeries& hours,
                        const std::vector<StoredFinding>& findings) {
  return chart("DNS queries per minute (last 24 hours)", minutes, bands_of(findings, 60)) +
         chart("DNS queries per hour (last 90 days)", hours, bands_of(findings, 3600));
}

std::string burst_warnings_html(const std::vector<StoredFinding>& findings, const std::string& id) {
  if (findings.empty()) return "";
  std::string out = "<div class=\"card findings\" id=\"" + esc(id) + "\"><ul>";
  for (const auto& f : findings) {
    out += "<li class=\"error burst-warning\" data-kind=\"" + esc(f.kind) + "\" data-period=\"" +
           esc(f.period) + "\">" + esc(f.warning) + "</li>";
  }
  return out + "</ul><p class=\"advice\">" + esc(stats::kBurstAdvice) + "</p></div>";
}

}  // namespace timepool::web
