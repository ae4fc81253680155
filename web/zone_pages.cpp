// Every zone's DNS load for admins (/admin/zones, /admin/zones/<name>) and the same series as
// JSON (/api/zone/<name>/queries) for the zone's vendor and for admins.
#include <string>
#include <vector>

#include "web/app.hpp"
#include "web/html.hpp"
#include "web/zone_load.hpp"

namespace timepool::web {

namespace {

struct ZoneBursts {
  std::string name;
  std::string kind;
  int64_t week = 0;  // queries in the last 7 days
  std::vector<stats::BurstFinding> findings;
};

// Zones with counted queries in the burst window, busiest first, with their findings. Each
// zone's minute rows are read (about 0.25 s per zone with 28 days of minutes on a busy test
// machine), so the admin queue page looks at vendor zones only and /admin/zones at all.
std::vector<ZoneBursts> zones_with_load(pg::Connection& db, double now, bool vendor_only) {
  auto r = db.exec(
      "SELECT z.id, z.name, z.kind, "
      "  coalesce((SELECT sum(h.count) FROM dns_query_counts_hourly h WHERE h.zone_id = z.id "
      "            AND h.hour >= now() - interval '7 days'), 0)::bigint AS week "
      "FROM zones z WHERE (NOT $2 OR z.kind = 'vendor') "
      "  AND EXISTS (SELECT 1 FROM dns_query_counts q WHERE q.zone_id = z.id "
      "              AND q.minute >= now() - make_interval(days => $1::int)) "
      "ORDER BY week DESC, z.name",
      kBurstWindowDays, vendor_only);
  std::vector<ZoneBursts> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.get<std::string>(i, 1), r.get<std::string>(i, 2), r.get<int64_t>(i, 3),
                   zone_bursts(db, r.get<int32_t>(i, 0), now)});
  }
  return out;
}

std::string zone_link(const std::string& name) {
  return "<a href=\"/admin/zones/" + esc(name) + "\">" + esc(name) + "</a>";
}

}  // namespace

std::string admin_burst_section(Ctx& c) {
  std::string items;
  for (const auto& z : zones_with_load(c.db, now_epoch(), true)) {
    for (const auto& f : z.findings) {
      items += "<li class=\"burst-warning\" data-zone=\"" + esc(z.name) + "\">" + zone_link(z.name) +
               ": " + esc(f.warning) + "</li>";
    }
  }
  std::string all = "<p><a href=\"/admin/zones\">Load and bursts of every zone</a></p>";
  if (items.empty()) {
    return "<h2>Vendor zone bursts</h2><p id=\"no-bursts\">No vendor zone shows recurring "
           "bursts.</p>" + all;
  }
  return "<h2>Vendor zone bursts</h2><ul id=\"burst-zones\">" + items +
         "</ul><p class=\"advice\">Advice given: " + esc(stats::kBurstAdvice) + "</p>" + all;
}

Response get_admin_zones(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  std::string rows;
  for (const auto& z : zones_with_load(c.db, now_epoch(), false)) {
    std::string warn;
    for (const auto& f : z.findings) warn += "<p class=\"error burst-warning\">" + esc(f.warning) + "</p>";
    if (!warn.empty()) warn += "<p class=\"advice\">" + esc(stats::kBurstAdvice) + "</p>";
    rows += "<tr id=\"zone-" + esc(z.name) + "\"><td>" + zone_link(z.name) + "</td><td>" + esc(z.kind) +
            "</td><td class=\"num\">" + std::to_string(z.week) + "</td><td>" +
            (warn.empty() ? "none" : warn) + "</td></tr>";
  }
  std::string body =
      "<h1>Zone load</h1><p><a href=\"/admin\">Vendor requests</a> · "
      "<a href=\"/admin/servers\">Servers</a> · <a href=\"/admin/accounts\">Accounts</a></p>"
      "<form method=\"get\" action=\"/admin/zone\" class=\"card\"><label>Zone name "
      "<input type=\"text\" name=\"name\"></label><button type=\"submit\">Show load</button></form>";
  if (rows.empty()) {
    body += "<p id=\"zones-empty\">No queries counted in the last " + std::to_string(kBurstWindowDays) +
            " days.</p>";
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
  std::string bursts = burst_warnings_html(zone_bursts(c.db, *id, now), "bursts");
  std::string body = "<h1>Load of zone " + esc(name) + "</h1><p><a href=\"/admin/zones\">All zones</a></p>" +
                     (bursts.empty() ? "<p id=\"no-bursts\">No recurring bursts.</p>" : bursts) +
                     load_charts(minute_series(c.db, *id, now), hour_series(c.db, *id, now));
  return page(c, 200, "Load of zone " + name, body);
}

Response api_zone_queries(Ctx& c) {
  if (!c.session) return Response::json_error(401, "log in to read a zone's load");
  std::string name = c.req.match(1);
  auto id = zone_id_by_name(c.db, name);
  if (!c.is("admin")) {
    bool own = id && c.is("vendor") &&
               c.db.exec("SELECT 1 FROM vendor_zones WHERE zone_id = $1 AND account_id = $2 "
                         "AND status = 'approved'",
                         *id, c.session->account_id)
                       .rows() > 0;
    if (!own) return Response::json_error(403, "only the zone's vendor and admins may read its load");
  }
  if (!id) return Response::json_error(404, "no such zone");
  std::string res = c.req.param("resolution");
  if (res.empty()) res = "minute";
  if (res != "minute" && res != "hour") return Response::json_error(400, "resolution is minute or hour");
  double now = now_epoch();
  LoadSeries s = res == "minute" ? minute_series(c.db, *id, now) : hour_series(c.db, *id, now);
  nlohmann::json pts = nlohmann::json::array();
  for (const auto& p : s.points) pts.push_back({static_cast<int64_t>(p.t), static_cast<int64_t>(p.v)});
  nlohmann::json bursts = nlohmann::json::array();
  for (const auto& f : zone_bursts(c.db, *id, now)) {
    bursts.push_back({{"period", f.period == stats::BurstFinding::Period::Daily ? "daily" : "weekly"},
                      {"weekday", f.weekday >= 0 ? nlohmann::json(stats::weekday_name(f.weekday))
                                                 : nlohmann::json()},
                      {"minute_of_day", f.minute_of_day},
                      {"typical_count", f.typical_count},
                      {"typical_factor", f.typical_factor},
                      {"warning", f.warning}});
  }
  return Response::json(200, {{"zone", name},
                              {"resolution", res},
                              {"from", static_cast<int64_t>(s.t0)},
                              {"to", static_cast<int64_t>(s.t1)},
                              {"counts", pts},
                              {"bursts", bursts},
                              {"advice", stats::kBurstAdvice}});
}

}  // namespace timepool::web
