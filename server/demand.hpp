// The balancer as timepool-dns runs it: measured demand (schema/0016 dns_demand) and the
// snapshot's eligible servers in, the mixtures every answer draws from out.
//
// Every DNS edge runs it itself, in its loader, from what its database holds: the balancer is
// a deterministic function of its input (server/balancer.hpp), so edges reading the same rows
// publish the same mixtures, with no writer to elect and nothing more to replicate. An edge on
// a standby follows with the standby's lag, as it does for the servers themselves.
//
// Demand rows name the zone the queries count for: a client's country zone (geo-routed names,
// and explicit country names), a continent zone (explicit continent names), or the global zone
// (clients that could not be located). Alias zones count for their target.
//
// mixtures_from() is pure; fetch_demand() reads the database (throws pg::Error).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "server/balancer.hpp"
#include "server/mixtures.hpp"
#include "server/snapshot.hpp"

namespace timepool::pg {
class Connection;
}

namespace timepool::server {

struct DemandRow {
  int64_t zone_id = 0;
  bool v6 = false;
  double queries = 0;  // over the window
};

struct BalancerSettings {
  bool enabled = true;
  std::chrono::seconds interval{300};  // how often the demand is read again
  std::chrono::seconds window{3600};   // how much recent demand counts
  double factor = 2.0;                 // load per netspeed at most factor x the pool average
  uint32_t min_servers = 3;            // geo_min_servers
};

// The balancer's input for one address family as mixtures_from() builds it: the family's
// demand rows mapped to their origins (rows of other zones dropped), and src's servers of the
// family with netspeed > 0, each with its country and continent zone.
BalanceInput balance_input(const SourceData& src, const std::vector<DemandRow>& demand,
                           const BalancerSettings& settings, bool v6);

// One balancer run per address family over `src`'s eligible servers. Origins without demand
// get no row (they answer by the plain geo rule).
std::shared_ptr<const Mixtures> mixtures_from(const SourceData& src,
                                              const std::vector<DemandRow>& demand,
                                              const BalancerSettings& settings);

// The demand of the last `window` (ending now, by the database clock), summed per zone and
// family. An empty list when the table does not exist (a schema before 0016).
std::vector<DemandRow> fetch_demand(pg::Connection& conn, std::chrono::seconds window);

}  // namespace timepool::server
