#include "web/zone_load.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/minute_series.hpp"
#include "web/html.hpp"

namespace timepool::web {

namespace {

std::string chart(const std::string& title, const LoadSeries& s) {
  double peak = 1;
  for (const auto& p : s.points) peak = std::max(peak, p.v);
  ChartSpec spec;
  spec.title = title;
  spec.t0 = s.t0;
  spec.t1 = s.t1;
  spec.y_min = 0;
  spec.y_max = std::ceil(peak * 1.1);
  return "<figure>" + svg_chart(spec, {ChartSeries{"queries", s.points}}) + "</figure>";
}

LoadSeries hourly(pg::Connection& db, const char* sql, int64_t id, double now, int hours) {
  LoadSeries out;
  out.t1 = now;
  out.t0 = now - hours * 3600.0;
  auto r = db.exec(sql, id, hours);
  for (int i = 0; i < r.rows(); ++i) out.points.push_back({r.get<double>(i, 0), r.get<double>(i, 1)});
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

LoadSeries minute_series(pg::Connection& db, int32_t zone_id, double now) {
  int64_t to = static_cast<int64_t>(now) / 60 + 1;
  int64_t from = to - kMinuteSeriesHours * 60;
  LoadSeries out;
  out.t0 = static_cast<double>(from) * 60;
  out.t1 = static_cast<double>(to) * 60;
  for (const auto& m : stats::read_minute_series(db, zone_id, from, to)) {
    out.points.push_back({static_cast<double>(m.minute) * 60, static_cast<double>(m.count)});
  }
  return out;
}

LoadSeries hour_series(pg::Connection& db, int32_t zone_id, double now) {
  return hourly(db,
                "SELECT extract(epoch FROM hour)::float8, sum(count)::float8 "
                "FROM dns_query_counts_hourly WHERE zone_id = $1 "
                "AND hour >= date_trunc('hour', now()) - make_interval(hours => $2::int) "
                "GROUP BY hour ORDER BY hour",
                zone_id, now, kHourSeriesDays * 24);
}

LoadSeries answer_series(pg::Connection& db, int64_t server_id, double now) {
  return hourly(db,
                "SELECT extract(epoch FROM hour)::float8, count::float8 FROM dns_server_answers "
                "WHERE server_id = $1 "
                "AND hour >= date_trunc('hour', now()) - make_interval(hours => $2::int) "
                "ORDER BY hour",
                server_id, now, 24);
}

std::vector<stats::BurstFinding> zone_bursts(pg::Connection& db, int32_t zone_id, double now) {
  int64_t to = static_cast<int64_t>(now) / 60 + 1;
  auto series = stats::read_minute_series(db, zone_id, to - kBurstWindowDays * 1440, to);
  return stats::find_bursts(series);
}

std::string load_charts(const LoadSeries& minutes, const LoadSeries& hours) {
  return chart("DNS queries per minute (last 24 hours)", minutes) +
         chart("DNS queries per hour (last 90 days)", hours);
}

std::string burst_warnings_html(const std::vector<stats::BurstFinding>& findings,
                                const std::string& id) {
  if (findings.empty()) return "";
  std::string out = "<div class=\"card\" id=\"" + esc(id) + "\"><ul>";
  for (const auto& f : findings) out += "<li class=\"error burst-warning\">" + esc(f.warning) + "</li>";
  return out + "</ul><p class=\"advice\">" + esc(stats::kBurstAdvice) + "</p></div>";
}

}  // namespace timepool::web
