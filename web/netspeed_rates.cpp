#include "web/netspeed_rates.hpp"

#include <cmath>
#include <cstdio>

#include "server/demand.hpp"
#include "web/html.hpp"
#include "web/validate.hpp"

namespace timepool::web {

namespace {

// Three significant digits below 100 (0.00409, 1.23, 45.6), whole numbers above.
std::string rate_text(double v) {
  char buf[32];
  if (v <= 0) return "0";
  std::snprintf(buf, sizeof buf, v < 100 ? "%.3g" : "%.0f", v);
  return buf;
}

std::string minutes_text(double seconds) {
  const long m = std::lround(seconds / 60);
  return std::to_string(m) + (m == 1 ? " minute" : " minutes");
}

// The zones the demand rows map to origins by (server::balance_input): no vendor zones.
server::SourceData read_zones(pg::Connection& db) {
  server::SourceData src;
  auto r = db.exec("SELECT id, kind, alias_of, parent_id FROM zones WHERE kind <> 'vendor'");
  for (int i = 0; i < r.rows(); ++i) {
    auto kind = server::parse_zone_kind(r.text(i, 1));
    if (!kind) continue;
    server::ZoneRow z;
    z.id = r.get<int64_t>(i, 0);
    z.kind = *kind;
    z.alias_of = r.get<std::optional<int64_t>>(i, 2);
    z.parent_id = r.get<std::optional<int64_t>>(i, 3);
    src.zones.push_back(std::move(z));
  }
  return src;
}

// The servers in DNS added up per family, country zone and continent zone, as the DNS
// servers' balancer sees them (a server's zones are its country and that country's parent).
void read_servers(pg::Connection& db, server::BalanceInput& v4, server::BalanceInput& v6) {
  auto r = db.exec(
      "SELECT family(e.address) = 6, coalesce(z.id, 0)::bigint, coalesce(p.id, 0)::bigint, "
      "sum(e.netspeed)::float8, count(*)::bigint FROM eligible_servers e "
      "LEFT JOIN zones z ON z.name = e.country AND z.kind = 'country' AND z.alias_of IS NULL "
      "LEFT JOIN zones p ON p.id = z.parent_id AND p.kind = 'continent' "
      "WHERE e.netspeed > 0 GROUP BY 1, 2, 3");
  for (int i = 0; i < r.rows(); ++i) {
    server::BalanceServer s;
    s.country = r.get<int64_t>(i, 1);
    s.continent = r.get<int64_t>(i, 2);
    s.netspeed = r.get<double>(i, 3);
    s.count = static_cast<uint32_t>(r.get<int64_t>(i, 4));
    (r.get<bool>(i, 0) ? v6 : v4).servers.push_back(s);
  }
}

}  // namespace

double expected_rate(const server::BalanceInput& in, int64_t country, int64_t continent,
                     double netspeed, double replaces, double window_seconds) {
  if (!(netspeed > 0) || !(window_seconds > 0)) return 0;
  double demand = 0;
  for (const auto& d : in.demand) demand += d.queries > 0 ? d.queries : 0;
  if (!(demand > 0)) return 0;
  server::BalanceInput with = in;
  if (replaces > 0) {
    for (auto it = with.servers.begin(); it != with.servers.end(); ++it) {
      if (it->country != country || it->continent != continent) continue;
      it->netspeed -= replaces;
      it->count = it->count > 0 ? it->count - 1 : 0;
      if (it->count == 0 || !(it->netspeed > 0)) with.servers.erase(it);
      break;
    }
  }
  if (country == 0) {
    double total = netspeed;
    for (const auto& s : with.servers) total += s.netspeed;
    return netspeed * demand / total / window_seconds;
  }
  with.servers.push_back({country, continent, netspeed, 1});
  const server::BalanceResult r = server::balance(with);
  for (const auto& l : server::expected_load(with, r)) {
    if (l.country == country && l.continent == continent) return l.load * netspeed / window_seconds;
  }
  return 0;
}

NetspeedRates netspeed_rates(pg::Connection& db, const WebConfig& cfg, const std::string& country,
                             const std::optional<EditedServer>& edited) {
  NetspeedRates out;
  out.window_seconds = static_cast<double>(cfg.balancer_window.count());
  int64_t country_id = 0, continent_id = 0;
  if (!country.empty()) {
    auto z = db.exec(
        "SELECT z.id, coalesce(p.id, 0)::bigint, z.name, z.description FROM zones a "
        "JOIN zones z ON z.id = coalesce(a.alias_of, a.id) "
        "LEFT JOIN zones p ON p.id = z.parent_id AND p.kind = 'continent' "
        "WHERE a.name = $1 AND a.kind = 'country'",
        country);
    if (z.rows() == 1) {
      country_id = z.get<int64_t>(0, 0);
      continent_id = z.get<int64_t>(0, 1);
      out.country = z.get<std::string>(0, 2);
      out.country_label = z.get<std::string>(0, 3) + " (" + out.country + ")";
    }
  }
  server::BalancerSettings settings;
  settings.factor = cfg.balancer_factor;
  settings.min_servers = cfg.geo_min_servers;
  settings.window = cfg.balancer_window;
  const server::SourceData zones = read_zones(db);
  const auto demand = server::fetch_demand(db, settings.window);
  server::BalanceInput v4 = server::balance_input(zones, demand, settings, false);
  server::BalanceInput v6 = server::balance_input(zones, demand, settings, true);
  read_servers(db, v4, v6);
  out.demand_v4 = !v4.demand.empty();
  out.demand_v6 = !v6.demand.empty();
  const bool replace = edited && edited->netspeed > 0 && country_id != 0;
  for (int n : kNetspeeds) {
    NetspeedRates::Row row;
    row.netspeed = n;
    const double was = static_cast<double>(replace ? edited->netspeed : 0);
    row.v4 = expected_rate(v4, country_id, continent_id, n, replace && !edited->v6 ? was : 0,
                           out.window_seconds);
    row.v6 = expected_rate(v6, country_id, continent_id, n, replace && edited->v6 ? was : 0,
                           out.window_seconds);
    out.rows.push_back(row);
  }
  return out;
}

std::string netspeed_rates_html(const NetspeedRates& r, int chosen, bool show_v4, bool show_v6) {
  const std::string where =
      r.country.empty() ? "the pool as a whole (choose the server's country for its own figure)"
                        : esc(r.country_label);
  std::string head = "<tr><th>Netspeed</th>";
  if (show_v4) head += "<th>IPv4 server</th>";
  if (show_v6) head += "<th>IPv6 server</th>";
  head += "</tr>";
  auto cell = [](bool demand, int netspeed, double v) {
    if (netspeed == 0) return std::string("<td class=\"num\">none</td>");
    return "<td class=\"num\">" + (demand ? rate_text(v) : std::string("no demand counted")) +
           "</td>";
  };
  // The sentence for one row: the chosen row's is shown; every row carries its own for the
  // script that follows the select (web/static/netspeed.js).
  auto sentence = [&](const NetspeedRates::Row& row) {
    if (row.netspeed == 0) {
      return std::string("At 0 (monitoring only) DNS does not hand the server out: no DNS traffic.");
    }
    std::string parts;
    if (show_v4) parts += (r.demand_v4 ? rate_text(row.v4) : "0") + std::string(" for an IPv4 server");
    if (show_v6) {
      parts += (parts.empty() ? "" : ", ") + (r.demand_v6 ? rate_text(row.v6) : "0") +
               std::string(" for an IPv6 server");
    }
    return "At " + netspeed_label(row.netspeed) + " expect about " + parts +
           " (DNS queries per second, estimated).";
  };
  std::string rows, expect;
  for (const auto& row : r.rows) {
    const bool is_chosen = row.netspeed == chosen;
    const std::string said = sentence(row);
    rows += "<tr data-netspeed=\"" + std::to_string(row.netspeed) + "\"" +
            (is_chosen ? " class=\"chosen\"" : "") + " data-expect=\"" + esc(said) + "\"><td>" +
            esc(netspeed_label(row.netspeed)) + "</td>";
    if (show_v4) rows += cell(r.demand_v4, row.netspeed, row.v4);
    if (show_v6) rows += cell(r.demand_v6, row.netspeed, row.v6);
    rows += "</tr>";
    if (is_chosen) expect = said;
  }
  return "<div id=\"netspeed-rates\" class=\"rates\" data-country=\"" + esc(r.country) +
         "\"><p class=\"muted\">Expected load for a server in " + where +
         ", an estimate: the DNS queries per second the pool's DNS servers counted over the last " +
         minutes_text(r.window_seconds) +
         " (demand statistics), times the share of them a server of each netspeed would get: "
         "the balancer's mixture of the country, its continent and the global zone, shared by "
         "netspeed among the servers in DNS. Demand changes over the day, and how much NTP "
         "traffic follows one DNS answer depends on the clients.</p>"
         "<table class=\"netspeed-rates\"><thead>" + head + "</thead><tbody>" + rows +
         "</tbody></table><p id=\"netspeed-expect\">" + esc(expect) +
         "</p></div><script src=\"/static/netspeed.js\" defer></script>";
}

}  // namespace timepool::web
