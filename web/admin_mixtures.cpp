// The balancer's current mixtures for admins (/admin/mixtures): for every client country with
// demand, the shares of its answers from its own country, its continent and the global zone,
// computed here by the same functions every DNS server runs (server/demand.hpp) on the same
// rows (eligible servers, dns_demand of the balancer's window), so the page shows what the
// DNS servers publish.
#include <cstdio>
#include <map>

#include "server/demand.hpp"
#include "server/geo_config.hpp"
#include "server/loader.hpp"
#include "web/app.hpp"
#include "web/html.hpp"

namespace timepool::web {

namespace {

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
  return buf;
}

}  // namespace

Response get_admin_mixtures(Ctx& c) {
  if (auto deny = require_role(c, {"admin"})) return *deny;
  server::BalancerSettings settings;
  settings.factor = c.app.cfg.balancer_factor;
  settings.min_servers = c.app.cfg.geo_min_servers;
  settings.window = c.app.cfg.balancer_window;
  const server::SourceData src = server::fetch_source(c.db);
  const auto demand = server::fetch_demand(c.db, settings.window);
  const auto mixtures = server::mixtures_from(src, demand, settings);
  std::map<int64_t, std::string> names;
  for (const auto& z : src.zones) names[z.id] = z.kind == server::ZoneKind::Global ? "@" : z.name;
  auto name = [&](int64_t id) { return id == 0 ? std::string("-") : names[id]; };
  std::string rows;
  for (const auto& m : mixtures->rows()) {
    rows += "<tr id=\"mix-" + esc(name(m.country)) + "-" + (m.v6 ? "6" : "4") + "\"><td>" +
            esc(name(m.country)) + "</td><td>" + esc(name(m.continent)) + "</td><td>" +
            (m.v6 ? "IPv6" : "IPv4") + "</td><td class=\"num\">" + pct(m.own) +
            "</td><td class=\"num\">" + pct(m.near) + "</td><td class=\"num\">" + pct(m.global) +
            "</td></tr>";
  }
  char head[320];
  std::snprintf(head, sizeof head,
                "<p>From the demand of the last %lld minutes and the servers in DNS now; no "
                "server carries more than %.1f times the median server's load per netspeed, nor more "
                "than %.1f times the pool's average.</p>",
                static_cast<long long>(settings.window.count() / 60), settings.factor, settings.factor);
  std::string body = "<h1>Balancer mixtures</h1><p><a href=\"/admin/zones\">Zone load</a></p>" +
                     std::string(head);
  if (rows.empty()) {
    body += "<p id=\"mixtures-empty\">No demand counted in the window: every country answers "
            "by the plain rule (its country, else its continent, else the global zone).</p>";
  } else {
    body += "<div class=\"scroll\"><table id=\"mixtures\"><thead><tr><th>Clients in</th>"
            "<th>Continent</th><th>Family</th><th>Own country</th><th>Continent</th>"
            "<th>Global</th></tr></thead><tbody>" + rows + "</tbody></table></div>";
  }
  return page(c, 200, "Balancer mixtures", body);
}

}  // namespace timepool::web
