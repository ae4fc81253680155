// Every zone's DNS load for admins (/admin/zones, /admin/zones/<name>) and the same series as
// JSON (/api/zone/<name>/queries) for the zone's vendor and for admins.
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "web/app.hpp"
#include "web/html.hpp"
#include "web/zone_load.hpp"

namespace timepool::web {

namespace {

struct ZoneRow {
  std::string name;
  std::string kind;
  int64_t week = 0;  // queries in the last 7 days
};

// Zones with queries in the last 7 days (from the hourly totals) or with findings, busiest
// first. Findings come from zone_findings: no minute rows are read here.
std::vector<ZoneRow> zones_with_load(pg::Connection& db) {
  auto r = db.exec(
      "SELECT z.name, z.kind, coalesce(w.week, 0)::bigint FROM zones z "
      "LEFT JOIN (SELECT zone_id, sum(count) AS week FROM dns_query_counts_hourly "
      "           WHERE hour >= now() - interval '7 days' GROUP BY zone_id) w ON w.zone_id = z.id "
      "WHERE w.week > 0 OR EXISTS (SELECT 1 FROM zone_findings f WHERE f.zone_id = z.id) "
      "ORDER BY 3 DESC, z.name");
  std::vector<ZoneRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.get<std::string>(i, 0), r.get<std::string>(i, 1), r.get<int64_t>(i, 2)});
  }
  return out;
}

std::string zone_link(const std::string& name) {
  return "<a href=\"/admin/zones/" + esc(name) + "\">" + esc(name) + "</a>";
}

std::string freshness(pg::Connection& db) {
  std::string at = findings_updated(db);
  return "<p class=\"muted\" id=\"findings-updated\">" +
         (at.empty() ? std::string("The findings have not been computed yet.")
                     : "Findings computed " + esc(at) + ".") +
         "</p>";
}

}  // namespace

std::string admin_burst_section(Ctx& c) {
  constexpr int kShown = 50;  // the newest; /admin/zones lists every zone's
  int64_t total = 0;
  std::string items;
  for (const auto& f : vendor_zone_findings(c.db, kShown, &total)) {
    items += "<li class=\"burst-warning\" data-zone=\"" + esc(f.zone) + "\" data-kind=\"" +
             esc(f.kind) + "\">" + zone_link(f.zone) + ": " + esc(f.warning) + "</li>";
  }
  std::string all = "<p><a href=\"/admin/zones\">Load and bursts of every zone</a></p>";
  if (items.empty()) {
    return "<h2>Vendor zone bursts</h2><p id=\"no-bursts\">No vendor zone shows recurring "
           "bursts.</p>" + freshness(c.db) + all;
  }
  std::string more;
  if (total > kShown) {
    more = "<p id=\"more-findings\">The " + std::to_string(kShown) + " most recently seen of " +
           std::to_string(total) + " findings; <a href=\"/admin/zones\">all of them</a>.</p>";
  }
  return "<h2>Vendor zone bursts</h2><ul id=\"burst-zones\">" + items + "</ul>" + more +
         "<p class=\"advice\">Advice given: " + esc(stats::kBurstAdvice) + "</p>" +
         freshness(c.db) + all;
}

Response get_admin_zones(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  std::map<std::string, std::vector<StoredFinding>> by_zone;
  for (auto& f : all_zone_findings(c.db)) by_zone[f.zone].push_back(std::move(f));
  std::string rows;
  for (const auto& z : zones_with_load(c.db)) {
    std::string warn;
    for (const auto& f : by_zone[z.name]) {
      warn += "<p class=\"error burst-warning\">" + esc(f.warning) + "</p>";
    }
    if (!warn.empty()) warn += "<p class=\"advice\">" + esc(stats::kBurstAdvice) + "</p>";
    rows += "<tr id=\"zone-" + esc(z.name) + "\"><td>" + zone_link(z.name) + "</td><td>" + esc(z.kind) +
            "</td><td class=\"num\">" + std::to_string(z.week) + "</td><td>" +
            (warn.empty() ? "none" : warn) + "</td></tr>";
  }
  std::string body =
      "<h1>Zone load</h1><p><a href=\"/admin\">Vendor requests</a> · "
      "<a href=\"/admin/servers\">Servers</a> · <a href=\"/admin/accounts\">Accounts</a></p>"
      "<form method=\"get\" action=\"/admin/zone\" class=\"card\"><label>Zone name "
      "<input type=\"text\" name=\"name\"></label><button type=\"submit\">Show load</button></form>" +
      freshness(c.db);
  if (rows.empty()) {
    body += "<p id=\"zones-empty\">No queries counted in the last 7 days.</p>";
  } else {
    body += "<div class=\"scroll\"><table id=\"zone-load\"><thead><tr><th>Zone</th><th>Kind</th>"
            "<th>Queries (7 days)</th><th>Recurring bursts</th></tr></thead><tbody>" + rows +
            "</tbody></table></div>";
  }
  return page(c, 200, "Zone load", body);
}

Response get_admin_zone_lookup(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  std::string name = c.req.param("name");
  if (!zone_id_by_name(c.db, name)) {
    return message_page(c, 404, "No such zone", "There is no such zone.", "/admin/zones");
  }
  return Response::redirect("/admin/zones/" + name);
}

Response get_admin_zone_load(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  std::string name = c.req.match(1);
  auto id = zone_id_by_name(c.db, name);
  if (!id) return message_page(c, 404, "No such zone", "There is no such zone.", "/admin/zones");
  double now = now_epoch();
  auto findings = zone_findings(c.db, *id);
  std::string bursts = burst_warnings_html(findings, "bursts");
  std::string body = "<h1>Load of zone " + esc(name) + "</h1><p><a href=\"/admin/zones\">All zones</a></p>" +
                     (bursts.empty() ? "<p id=\"no-bursts\">No recurring bursts.</p>" : bursts) +
                     freshness(c.db) +
                     load_charts(minute_series(c.db, *id, now), hour_series(c.db, *id, now), findings);
  return page(c, 200, "Load of zone " + name, body);
}

namespace {

nlohmann::json findings_json(const std::vector<StoredFinding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : findings) {
    nlohmann::json days = nlohmann::json::array();
    for (int d = 0; d < 7; ++d) {
      if (f.weekdays & (1 << d)) days.push_back(stats::weekday_name(d));
    }
    nlohmann::json windows = nlohmann::json::array();
    for (const auto& [a, b] : f.windows) windows.push_back({a * 60, (b + 1) * 60});
    out.push_back({{"kind", f.kind},
                   {"period", f.period},
                   {"weekdays", days},
                   {"weekday", days.empty() ? nlohmann::json() : days[0]},
                   {"minute_of_day", f.window_start},
                   {"window_minutes", f.window_minutes},
                   {"typical_count", f.typical_count},
                   {"typical_factor", f.factor},
                   {"first_seen", f.first_seen},
                   {"last_seen", f.last_seen},
                   {"windows", windows},
                   {"warning", f.warning}});
  }
  return out;
}

}  // namespace

Response api_zone_queries(Ctx& c) {
  auto access = api_zone_access(c);
  if (auto* r = std::get_if<Response>(&access)) return std::move(*r);
  int32_t id = std::get<int32_t>(access);
  std::string name = c.req.match(1);
  std::string res = c.req.param("resolution");
  if (res.empty()) res = "minute";
  if (res != "minute" && res != "hour") return Response::json_error(400, "resolution is minute or hour");
  double now = now_epoch();
  LoadSeries s = res == "minute" ? minute_series(c.db, id, now) : hour_series(c.db, id, now);
  // Sparse on the wire: periods without queries are left out (documented in API.md).
  nlohmann::json pts = nlohmann::json::array();
  for (const auto& p : s.points) {
    if (p.v != 0) pts.push_back({static_cast<int64_t>(p.t), static_cast<int64_t>(p.v)});
  }
  return Response::json(200, {{"zone", name},
                              {"resolution", res},
                              {"from", static_cast<int64_t>(s.t0)},
                              {"to", static_cast<int64_t>(s.t1)},
                              {"counts", pts},
                              {"bursts", findings_json(zone_findings(c.db, id))},
                              {"advice", stats::kBurstAdvice}});
}

Response api_zone_findings(Ctx& c) {
  auto access = api_zone_access(c);
  if (auto* r = std::get_if<Response>(&access)) return std::move(*r);
  int32_t id = std::get<int32_t>(access);
  std::string at = findings_updated(c.db);
  return Response::json(200, {{"zone", c.req.match(1)},
                              {"updated", at.empty() ? nlohmann::json() : nlohmann::json(at)},
                              {"findings", findings_json(zone_findings(c.db, id))},
                              {"advice", stats::kBurstAdvice}});
}

}  // namespace timepool::web
