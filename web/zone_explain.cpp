#include "web/zone_explain.hpp"

#include <algorithm>
#include <cmath>

#include "web/graph.hpp"
#include "web/html.hpp"

namespace timepool::web {

namespace {

constexpr double kHistorySeconds = 14 * 86400.0;

using server::ZoneKind;
using server::ZoneRow;

uint64_t count_in(const server::ServerCounts& c, int64_t id) {
  auto it = c.find(id);
  return it == c.end() ? 0 : it->second;
}

std::string servers(uint64_t n) { return std::to_string(n) + (n == 1 ? " server" : " servers"); }

std::string dns_name(const std::string& zone, const std::string& pool_domain) {
  return zone == "@" ? pool_domain : zone + "." + pool_domain;
}

std::string label(const server::ZoneTree& tree, int64_t id) {
  const ZoneRow* z = tree.find(id);
  return !z ? "?" : z->kind == ZoneKind::Global ? "the global zone" : z->name;
}

// One family's notes.
std::vector<std::string> notes_for(const server::ZoneTree& tree, const server::ServerCounts& counts,
                                   const ZoneRow& asked, uint64_t min_servers,
                                   const std::string& pool_domain) {
  std::vector<std::string> out;
  const ZoneRow& zone = tree.resolve(asked);
  std::string name = dns_name(asked.name, pool_domain);
  uint64_t n = count_in(counts, zone.id);
  // Clients located in this country asking a global name or a vendor zone (the geo rule).
  if (zone.kind == ZoneKind::Country) {
    if (auto cc = geo::CountryCode::parse(zone.name)) {
      auto choice = server::choose_geo_zone(tree, cc, counts, min_servers);
      if (choice.zone_id != zone.id) {
        out.push_back(name + " has " + servers(n) + ", fewer than geo_min_servers (" +
                      std::to_string(min_servers) + "): clients in " + zone.name + " asking " +
                      pool_domain + " or a vendor zone get answers from " +
                      label(tree, choice.zone_id) + ".");
      }
    }
  }
  // The name itself (the explicit rule): only an empty country or continent falls back.
  auto own = server::choose_explicit_zone(tree, asked.id, counts);
  if (own.zone_id != zone.id) {
    out.push_back(name + " has no servers: its answers come from " + label(tree, own.zone_id) +
                  ".");
  } else if (!out.empty()) {
    out.push_back(name + " itself still answers with its own " + servers(n) + ".");
  }
  return out;
}

}  // namespace

std::vector<std::string> zone_fallback_notes(const server::ZoneTree& tree,
                                             const server::ServerCounts& v4,
                                             const server::ServerCounts& v6,
                                             const std::string& zone, uint64_t min_servers,
                                             const std::string& pool_domain) {
  const ZoneRow* asked = tree.find_name(zone);
  if (!asked || asked->kind == ZoneKind::Vendor || asked->kind == ZoneKind::Global) return {};
  auto a = notes_for(tree, v4, *asked, min_servers, pool_domain);
  auto b = notes_for(tree, v6, *asked, min_servers, pool_domain);
  if (a == b) return a;
  std::vector<std::string> out;
  for (auto& s : a) out.push_back("IPv4: " + s);
  for (auto& s : b) out.push_back("IPv6: " + s);
  return out;
}

ZoneCounts load_zone_counts(pg::Connection& db) {
  ZoneCounts c;
  auto r = db.exec(
      "SELECT sz.zone_id, count(*) FILTER (WHERE e.ip_version = 4), "
      "count(*) FILTER (WHERE e.ip_version = 6) "
      "FROM eligible_servers e JOIN server_zones sz ON sz.server_id = e.id GROUP BY sz.zone_id");
  for (int i = 0; i < r.rows(); ++i) {
    int64_t id = r.get<int64_t>(i, 0);
    if (auto n = r.get<int64_t>(i, 1)) c.v4.emplace(id, static_cast<uint64_t>(n));
    if (auto n = r.get<int64_t>(i, 2)) c.v6.emplace(id, static_cast<uint64_t>(n));
  }
  return c;
}

std::string zone_history_html(pg::Connection& db, const std::string& zone, double now) {
  auto r = db.exec(
      "SELECT extract(epoch FROM h.hour)::float8, h.v4, h.v6 FROM zone_servers_hourly h "
      "WHERE h.zone_id = (SELECT coalesce(z.alias_of, z.id) FROM zones z WHERE z.name = $1) "
      "AND h.hour >= to_timestamp($2) ORDER BY h.hour",
      zone, now - kHistorySeconds);
  if (r.rows() == 0) {
    return "<p id=\"zone-history\">No history yet: the servers in DNS are counted every hour.</p>";
  }
  ChartSeries v4{"IPv4", {}}, v6{"IPv6", {}};
  double peak = 1;
  for (int i = 0; i < r.rows(); ++i) {
    double t = r.get<double>(i, 0);
    double a = r.get<int32_t>(i, 1), b = r.get<int32_t>(i, 2);
    v4.points.push_back({t, a});
    v6.points.push_back({t, b});
    peak = std::max({peak, a, b});
  }
  // Each row is the count of one hour: drawn as a step an hour wide, so even the first hour
  // shows as a line.
  ChartSpec spec;
  spec.step = 3600;
  spec.t0 = v4.points.front().t;
  spec.t1 = std::max(now, v4.points.back().t + 3600);
  spec.title = "Servers in DNS per hour (" + range_label(spec.t1 - spec.t0) + ")";
  spec.y_min = 0;
  spec.y_max = std::ceil(peak * 1.2);
  return "<figure id=\"zone-history\">" + svg_chart(spec, {v4, v6}) + "</figure>";
}

}  // namespace timepool::web
