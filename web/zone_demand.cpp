#include "web/zone_demand.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "web/graph.hpp"
#include "web/html.hpp"

namespace timepool::web {

namespace {

constexpr double kChartSeconds = 7 * 86400.0;

// The zone and every zone below it (a continent's countries, the global zone's everything),
// aliases resolved: the zones whose demand is the zone's clients'.
constexpr const char* kSubtree = R"SQL(
WITH RECURSIVE t(id) AS (
  SELECT coalesce(alias_of, id) FROM zones WHERE name = $1
  UNION SELECT z.id FROM zones z JOIN t ON z.parent_id = t.id
)
)SQL";

std::string number(double v, const char* fmt) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

double counted_minutes(double hour, double newest) {
  return std::clamp(std::floor((newest - hour) / 60) + 1, 1.0, 60.0);
}

std::vector<ChartSeries> demand_series(const std::vector<DemandHour>& hours, double newest) {
  ChartSeries v4{"IPv4", {}}, v6{"IPv6", {}};
  for (const auto& h : hours) {
    (h.v6 ? v6 : v4).points.push_back({h.hour, h.queries / counted_minutes(h.hour, newest)});
  }
  std::vector<ChartSeries> out;
  if (!v4.points.empty()) out.push_back(std::move(v4));
  if (!v6.points.empty()) out.push_back(std::move(v6));
  return out;
}

ZoneDemand zone_demand(pg::Connection& db, const std::string& zone, double factor) {
  ZoneDemand d;
  auto r = db.exec(std::string(kSubtree) +
                       "SELECT coalesce(sum(count) FILTER (WHERE zone_id IN (SELECT id FROM t)), 0)"
                       "::float8 / 60, coalesce(sum(count), 0)::float8 / 60 FROM dns_demand "
                       "WHERE family = 4 AND minute >= now() - interval '1 hour'",
                   zone);
  d.per_minute = r.get<double>(0, 0);
  d.pool_per_minute = r.get<double>(0, 1);
  auto n = db.exec(std::string(kSubtree) +
                       "SELECT coalesce(sum(e.netspeed) FILTER (WHERE EXISTS (SELECT 1 FROM "
                       "server_zones sz WHERE sz.server_id = e.id AND sz.zone_id IN "
                       "(SELECT id FROM t))), 0)::float8, coalesce(sum(e.netspeed), 0)::float8 "
                       "FROM eligible_servers e WHERE family(e.address) = 4",
                   zone);
  d.netspeed = n.get<double>(0, 0);
  d.pool_netspeed = n.get<double>(0, 1);
  if (d.per_minute > 0 && d.pool_per_minute > 0 && d.pool_netspeed > 0) {
    d.ratio = d.netspeed > 0 ? (d.per_minute / d.pool_per_minute) / (d.netspeed / d.pool_netspeed)
                             : std::numeric_limits<double>::infinity();
  }
  d.underserved = d.ratio > factor;
  return d;
}

std::string zone_demand_html(pg::Connection& db, const std::string& zone, double factor, double now) {
  const ZoneDemand d = zone_demand(db, zone, factor);
  std::string ratio = d.per_minute <= 0     ? "no demand counted"
                      : std::isinf(d.ratio) ? "no server to carry it"
                                            : number(d.ratio, "%.2f");
  std::string verdict =
      d.underserved
          ? "<strong id=\"zone-underserved\" class=\"warn\">Underserved</strong>: its clients ask "
            "for more than " + number(factor, "%.1f") + " times its share of the pool's capacity; "
            "part of their answers come from bigger zones."
          : "<span id=\"zone-underserved\">Not underserved</span>: its servers can carry its "
            "clients within " + number(factor, "%.1f") + " times the pool's average load.";
  std::string out =
      "<h2>Demand and capacity</h2><table class=\"facts\">"
      "<tr><th>Demand (IPv4 queries per minute, last hour)</th><td id=\"zone-demand\">" +
      number(d.per_minute, "%.1f") + "</td></tr>"
      "<tr><th>Capacity (IPv4 netspeed in DNS)</th><td id=\"zone-capacity\">" +
      number(d.netspeed / 1000, "%.1f") + " Mbit/s</td></tr>"
      "<tr><th>Share of demand / share of capacity</th><td id=\"zone-ratio\">" + esc(ratio) +
      "</td></tr></table><p>" + verdict + "</p>";
  auto h = db.exec(std::string(kSubtree) +
                       "SELECT extract(epoch FROM date_trunc('hour', minute))::float8, family, "
                       "sum(count)::float8 FROM dns_demand WHERE zone_id IN (SELECT id FROM t) "
                       "AND minute >= date_trunc('hour', to_timestamp($2)) GROUP BY 1, 2 ORDER BY 1",
                   zone, now - kChartSeconds);
  if (h.rows() == 0) return out + "<p id=\"zone-demand-chart\">No demand counted yet.</p>";
  std::vector<DemandHour> hours;
  for (int i = 0; i < h.rows(); ++i) {
    hours.push_back({h.get<double>(i, 0), h.get<int64_t>(i, 1) == 6, h.get<double>(i, 2)});
  }
  // The newest minute any DNS server has counted: the current hour is counted up to there
  // (the statistics arrive a minute or so late), so its average is over those minutes.
  const double newest =
      db.exec("SELECT extract(epoch FROM max(minute))::float8 FROM dns_demand").get<double>(0, 0);
  std::vector<ChartSeries> series = demand_series(hours, newest);
  double peak = 1;
  for (const auto& s : series)
    for (const auto& p : s.points) peak = std::max(peak, p.v);
  ChartSpec spec;
  spec.step = 3600;
  spec.t0 = hours.front().hour;
  spec.t1 = std::max(now, hours.back().hour + 3600);
  spec.title = "Queries per minute, hourly average (" + range_label(spec.t1 - spec.t0) + ")";
  spec.y_min = 0;
  spec.y_max = std::ceil(peak * 1.2);
  out += "<figure id=\"zone-demand-chart\">" + svg_chart(spec, series) + "</figure>";
  const double last = hours.back().hour, minutes = counted_minutes(last, newest);
  if (minutes < 60) {
    double v4 = 0;
    for (const auto& hr : hours)
      if (hr.hour == last && !hr.v6) v4 = hr.queries / minutes;
    out += "<p id=\"zone-demand-partial\">The last hour is still running: it is drawn at its "
           "average over the " + number(minutes, "%.0f") + (minutes == 1 ? " minute" : " minutes") +
           " counted so far, " + number(v4, "%.1f") + " IPv4 queries per minute.</p>";
  }
  return out;
}

}  // namespace timepool::web
