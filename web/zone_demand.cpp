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
                       "sum(count)::float8 / 60 FROM dns_demand WHERE zone_id IN (SELECT id FROM t) "
                       "AND minute >= to_timestamp($2) GROUP BY 1, 2 ORDER BY 1",
                   zone, now - kChartSeconds);
  if (h.rows() == 0) return out + "<p id=\"zone-demand-chart\">No demand counted yet.</p>";
  ChartSeries v4{"IPv4", {}}, v6{"IPv6", {}};
  double peak = 1;
  for (int i = 0; i < h.rows(); ++i) {
    const double t = h.get<double>(i, 0), q = h.get<double>(i, 2);
    (h.get<int64_t>(i, 1) == 6 ? v6 : v4).points.push_back({t, q});
    peak = std::max(peak, q);
  }
  ChartSpec spec;
  spec.step = 3600;
  spec.t0 = h.get<double>(0, 0);
  spec.t1 = std::max(now, h.get<double>(h.rows() - 1, 0) + 3600);
  spec.title = "Queries per minute, hourly average (" + range_label(spec.t1 - spec.t0) + ")";
  spec.y_min = 0;
  spec.y_max = std::ceil(peak * 1.2);
  std::vector<ChartSeries> series;
  if (!v4.points.empty()) series.push_back(std::move(v4));
  if (!v6.points.empty()) series.push_back(std::move(v6));
  return out + "<figure id=\"zone-demand-chart\">" + svg_chart(spec, series) + "</figure>";
}

}  // namespace timepool::web
