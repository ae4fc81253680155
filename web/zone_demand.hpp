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

#include "core/pg.hpp"

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

// The section as HTML, with the chart of the last 7 days (IPv4 and IPv6 per hour).
std::string zone_demand_html(pg::Connection& db, const std::string& zone, double factor, double now);

}  // namespace timepool::web
