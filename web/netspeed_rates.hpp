// What a server would carry at each netspeed, shown beside the netspeed choice of the add and
// edit forms (issue 13: fair load for volunteers). An estimate from measured demand: the DNS
// queries the DNS servers counted over dns.balancer_window (schema/0016 dns_demand) and the
// servers in DNS now, run through the balancer every DNS server runs (server/balancer.hpp,
// server/demand.hpp) with the server added to its country at each netspeed. A server's share
// is its netspeed times the load per netspeed the balancer leaves on its country's servers:
// its country's own clients, the continent tier and the global tier added up.
//
// How many NTP packets follow from one DNS answer depends on the clients, so the figure is in
// DNS queries: the share of the counted queries whose answers this server would take.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/pg.hpp"
#include "server/balancer.hpp"
#include "web/config.hpp"

namespace timepool::web {

// Pure. The queries per second a server of `netspeed` in (`country`, `continent`) would carry:
// `in` (demand over `window_seconds`; servers added up per (country, continent), one row
// each) with that server added, balanced, times its country's load per netspeed. `replaces`
// > 0: the server is already in `in` at that netspeed (the one being edited) and changes to
// `netspeed` instead of being added. `country` 0: no country
// chosen; the pool's average share, netspeed * demand / netspeed of all servers. 0 for
// netspeed 0 and without demand.
double expected_rate(const server::BalanceInput& in, int64_t country, int64_t continent,
                     double netspeed, double replaces, double window_seconds);

struct NetspeedRates {
  std::string country;        // the country zone's name; "" for the pool's average
  std::string country_label;  // "Netherlands (nl)"
  double window_seconds = 3600;
  bool demand_v4 = false, demand_v6 = false;  // any counted in the window
  struct Row {
    int netspeed = 0;          // kbit/s
    double v4 = 0, v6 = 0;     // queries per second
  };
  std::vector<Row> rows;  // one per kNetspeeds
};

// The server being edited: it is in DNS now at `netspeed` (its share moves with the choice).
struct EditedServer {
  bool v6 = false;
  int netspeed = 0;
};

// The rates for a server in `country` (a country zone's name, aliases resolved; "" or an
// unknown name: the pool's average). Throws pg::Error.
NetspeedRates netspeed_rates(pg::Connection& db, const WebConfig& cfg, const std::string& country,
                             const std::optional<EditedServer>& edited = std::nullopt);

// The table beside the select (id "netspeed-rates"): one row per netspeed with the rates of
// the families shown, the `chosen` one marked, a sentence for it (id "netspeed-expect") and
// where the figures come from.
std::string netspeed_rates_html(const NetspeedRates& r, int chosen, bool show_v4, bool show_v6);

}  // namespace timepool::web
