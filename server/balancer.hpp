// The balancer: from the measured demand and the eligible servers' netspeed, the mixture of
// tiers (own country, continent, global) that each client origin's answers draw from.
//
// The load model. An answer picks a tier by the origin's mixture, then a server by netspeed
// within the tier's zone, so within one tier every server carries the same load per unit of
// netspeed ("level"). A server in country k of continent m therefore carries
//     A_k + B_m + G   queries per unit of netspeed,
// A_k from its country's own clients, B_m from the continent tier of every origin in m, G from
// the global tier of every origin. The bound: A_k + B_m + G <= bound for every server, with
//     bound <= factor * min(average, median),
// the average being total demand / total netspeed and the median the load of the median
// server (the lower median, each server counted once). So no volunteer carries more than
// `factor` times its share of the pool's demand, nor more than `factor` times what the median
// volunteer carries. The median depends on the bound (a lower bound leaves more demand to the
// global tier, which every server shares), so when factor * average is above factor times the
// median it leads to, the bound is searched for (false position, kept bracketed) between the
// average (where every server carries exactly the average, so it holds) and factor * average:
// the highest bound tried that is at most factor times its median, to a billionth.
//
// The rule at a given bound, level by level:
//   - G is the lowest global level that absorbs what the continents send up;
//   - B_m, the continent tier's level, is the lower of two: the lowest level that takes all
//     of the continent's overflow (when the continent can hold its clients below the bound),
//     and a protecting level that leaves the countries room for their own clients first
//     (balancer.cpp, plan_continent: continuous in the demand and the capacities). So the
//     continent tier takes what it can once the countries are served (country first, then
//     continent), and the rest goes global;
//   - a country answers its own clients up to the room left, min(D_k, (bound - B_m - G) W_k).
// A country (continent) with fewer than `min_servers` servers is not a tier: its clients go to
// the next tier up, as today's geo rule (server/zone_fallback) does. Origins without a
// country zone (an unlocated client, an explicit continent name) start at the continent or
// global tier.
//
// The bound depends on the whole pool, so adding capacity can tighten it for everyone else.
// Adding capacity to a country does not lower the share of its clients answered in the
// country or the continent (tests/unit/server/test_balancer, randomized over many worlds);
// the rule is a heuristic, not a solved program.
//
// Pure and deterministic: the same input (in any order) gives the same output, bit for bit.
// Thread safety: a plain function of its arguments.
#pragma once

#include <cstdint>
#include <vector>

namespace timepool::server {

// Where queries come from: the country zone and continent zone whose tiers they may use
// (0: none). Demand is in queries per unit of time (any unit; only ratios matter).
struct BalanceDemand {
  int64_t country = 0;
  int64_t continent = 0;
  double queries = 0;
};

// One eligible server (or several of one country, netspeed added up).
struct BalanceServer {
  int64_t country = 0;    // 0: in no country zone
  int64_t continent = 0;  // 0: in no continent zone
  double netspeed = 0;    // kbit/s, > 0
  uint32_t count = 1;     // how many servers this row stands for (for min_servers)
};

struct BalanceInput {
  std::vector<BalanceDemand> demand;
  std::vector<BalanceServer> servers;
  double factor = 2.0;        // >= 1: the bound is factor * min(average, median)
  uint32_t min_servers = 3;   // geo_min_servers
};

// What share of an origin's answers each tier gives; country + continent + global == 1.
struct Mixture {
  int64_t country = 0;
  int64_t continent = 0;
  double queries = 0;  // the origin's demand (summed when several inputs share the origin)
  double own = 0;      // from the country zone
  double near = 0;     // from the continent zone
  double global = 0;
};

struct BalanceResult {
  // One per distinct origin of the input, sorted by (country, continent).
  std::vector<Mixture> mixtures;
  double average = 0;  // total demand / total netspeed
  double median = 0;   // the median server's load per unit of netspeed (the lower median)
  double bound = 0;    // no server's load per unit of netspeed is above it
  double global_level = 0;
};

// Throws std::invalid_argument for factor < 1 or a server with netspeed <= 0 (the loader
// never builds such rows).
BalanceResult balance(const BalanceInput& in);

// The mixture an origin gets when it had no demand in the window (or the balancer has not
// run): its country when that is a tier, else its continent, else global; the plain geo rule.
Mixture default_mixture(const BalanceInput& in, int64_t country, int64_t continent);

// The expected queries per unit of netspeed on the servers of each country when every origin
// draws by `r`: one entry per (country, continent) of the servers, sorted. For tests and
// bench/fairness.
struct CountryLoad {
  int64_t country = 0;
  int64_t continent = 0;
  double netspeed = 0;
  double load = 0;  // queries per unit of netspeed
};
std::vector<CountryLoad> expected_load(const BalanceInput& in, const BalanceResult& r);

}  // namespace timepool::server
