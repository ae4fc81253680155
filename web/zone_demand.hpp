// The zone page's demand section (issue: fair load for volunteers): the queries the DNS
// servers counted for the zone's clients (schema/0016 dns_demand: the client's country for
// the global name and vendor zones, the zone itself for explicit names; a continent or the
// global zone adds up the zones below it) against the zone's capacity (the netspeed of its
// servers in DNS), their ratio to the pool's, whether the zone is underserved, and a chart
// of the demand per hour.
//
// Underserved: the zone's share of the demand over its share of the capacity is more than
// dns.balancer_factor, so its own servers could not carry its clients within the balancer's
// bound and the DNS servers answer part of them from a bigger zone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/pg.hpp"
#include "web/graph.hpp"

namespace timepool::web {

struct ZoneDemand {
  double per_minute = 0;        // the zone's clients, IPv4 queries per minute, last hour
  double pool_per_minute = 0;   // every client's
  double netspeed = 0;          // kbit/s of the zone's IPv4 servers in DNS
  double pool_netspeed = 0;
  // (demand share) / (capacity share); 0 without demand; infinite with demand and no server.
  double ratio = 0;
  bool underserved = false;
};

// Throws pg::Error.
ZoneDemand zone_demand(pg::Connection& db, const std::string& zone, double factor);

// One hour of a zone's demand as summed from dns_demand.
struct DemandHour {
  double hour = 0;  // epoch seconds, the hour's start
  bool v6 = false;
  double queries = 0;
};

// How many minutes of the hour starting at `hour` the counts cover, when `newest` (epoch s) is
// the newest minute the DNS servers have counted for any zone: 60 for an hour that ended
// before it, the minutes from the hour's start through `newest` for the hour holding it (at
// least 1). A zone without rows in those minutes had no queries in them.
double counted_minutes(double hour, double newest);

// The chart's series, IPv4 then IPv6 (one without hours left out): queries per minute, each
// hour's count over its counted minutes, so the current hour is not drawn as if it were over.
std::vector<ChartSeries> demand_series(const std::vector<DemandHour>& hours, double newest);

// The section as HTML, with the chart of the last 7 days (IPv4 and IPv6 per hour).
std::string zone_demand_html(pg::Connection& db, const std::string& zone, double factor, double now);

}  // namespace timepool::web
