#include "server/balancer.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

namespace timepool::server {

namespace {

// 64 halvings of [0, bound]: far below any difference a load or a share could show.
constexpr int kBisect = 64;
// The share of the room below the bound that the continent tier leaves to each country's own
// clients before it takes the rest (plan_continent). With 1 the continent tier takes only the
// room the countries leave, and a server added to a country over the bound gives it nothing;
// with 0 it would take the whole continent before any country answered itself.
constexpr double kCountryFirst = 0.5;
// The bound against the median: at most this many steps of the search in
// [average, factor * average], which ends when the bracket is a billionth of the bound (the
// loads it leads to differ by less than that).
constexpr int kBisectBound = 64;
constexpr double kBoundPrecision = 1e-9;

struct Zone {
  double netspeed = 0;
  uint64_t count = 0;
};

struct Origin {
  int64_t country = 0, continent = 0;
  double queries = 0;
  double tier = 0;  // the netspeed of its country when that is a tier, else 0
};

// The input in canonical form: origins and zones in key order, so the arithmetic below runs in
// the same order whatever the order of the input rows.
struct World {
  std::vector<Origin> origins;
  std::map<int64_t, Zone> countries;   // by country zone id (servers only)
  std::map<int64_t, Zone> continents;  // by continent zone id (servers only)
  std::vector<BalanceServer> servers;  // sorted by (country, continent, netspeed, count)
  double netspeed = 0;
  uint64_t servers_count = 0;
  double demand = 0;
  double bound = 0;
  uint32_t min_servers = 0;

  const Zone* country(int64_t id) const {
    auto it = countries.find(id);
    return id == 0 || it == countries.end() ? nullptr : &it->second;
  }
  const Zone* continent(int64_t id) const {
    auto it = continents.find(id);
    return id == 0 || it == continents.end() ? nullptr : &it->second;
  }
  // The netspeed of a country or continent when it is a tier, else 0.
  double tier_netspeed(const Zone* z) const {
    return z && z->count >= min_servers ? z->netspeed : 0.0;
  }
};

World canonical(const BalanceInput& in) {
  if (!(in.factor >= 1.0)) throw std::invalid_argument("balancer: factor must be >= 1");
  World w;
  w.min_servers = in.min_servers;
  std::map<std::pair<int64_t, int64_t>, double> origins;
  for (const auto& d : in.demand) {
    if (d.queries > 0) origins[{d.country, d.continent}] += d.queries;
    else origins.try_emplace({d.country, d.continent}, 0.0);
  }
  for (const auto& [key, q] : origins) {
    w.origins.push_back(Origin{key.first, key.second, q});
    w.demand += q;
  }
  std::vector<BalanceServer>& servers = w.servers;
  servers = in.servers;
  std::sort(servers.begin(), servers.end(), [](const BalanceServer& a, const BalanceServer& b) {
    if (a.country != b.country) return a.country < b.country;
    if (a.continent != b.continent) return a.continent < b.continent;
    if (a.netspeed != b.netspeed) return a.netspeed < b.netspeed;
    return a.count < b.count;
  });
  for (const auto& s : servers) {
    if (!(s.netspeed > 0)) throw std::invalid_argument("balancer: netspeed must be > 0");
    if (s.country != 0) {
      auto& z = w.countries[s.country];
      z.netspeed += s.netspeed;
      z.count += s.count;
    }
    if (s.continent != 0) {
      auto& z = w.continents[s.continent];
      z.netspeed += s.netspeed;
      z.count += s.count;
    }
    w.netspeed += s.netspeed;
    w.servers_count += s.count;
  }
  for (Origin& o : w.origins) o.tier = w.tier_netspeed(w.country(o.country));
  if (w.netspeed > 0) w.bound = in.factor * w.demand / w.netspeed;
  return w;
}

// One continent at global level G: its level B, and how much of its origins' overflow the
// continent tier takes.
struct ContinentPlan {
  double level = 0;      // B
  double overflow = 0;   // demand its countries send up (to the continent tier or beyond)
  double absorbed = 0;   // of that, what the continent tier answers
};

// Queries origin `o` answers in its own country with `room` queries per netspeed left there.
double local(const Origin& o, double room) {
  return std::min(o.queries, std::max(0.0, room) * o.tier);
}

double overflow(const std::vector<const Origin*>& origins, double room) {
  double f = 0;
  for (const Origin* o : origins) f += o->queries - local(*o, room);
  return f;
}

ContinentPlan plan_continent(const World& w, const Zone* zone,
                             const std::vector<const Origin*>& origins, double g) {
  ContinentPlan p;
  const double top = std::max(0.0, w.bound - g);  // room per netspeed below the bound
  const double cap = w.tier_netspeed(zone);
  if (cap <= 0) {
    p.overflow = overflow(origins, top);
    return p;
  }
  // The level that protects the countries: the higher of two limits, each a continuous
  // function of the demand, the capacities and the room (so adding capacity, or a country
  // crossing the bound, moves it smoothly):
  //  - the level at which every country with clients is full, its own clients plus the
  //    continent tier at the bound (a country already over the bound is full at level 0);
  //  - the level at which the continent tier takes the room its countries leave when each
  //    answers its own clients up to kCountryFirst of the room: its servers' capacity at the
  //    bound less what the countries answer themselves, spread over the continent.
  // The second limit keeps the continent tier open to the countries over the bound while the
  // continent's other servers have room, and every server added to a country (even one over
  // the bound) widens it, so the continent tier grows with the continent's capacity.
  double fullest = top, own = 0;
  for (const Origin* o : origins) {
    if (o->queries > 0 && o->tier > 0) fullest = std::min(fullest, o->queries / o->tier);
    own += local(*o, kCountryFirst * top);
  }
  const double protect = std::max(top - fullest, std::max(0.0, top - own / cap));
  // The level that takes all the overflow, when the continent can hold its clients (B * W_m
  // grows with B at least as fast as the overflow does, so bisection finds the lowest); else
  // the bound itself.
  double demand = 0;
  for (const Origin* o : origins) demand += o->queries;
  double absorb = top;
  if (demand <= top * cap) {
    double lo = 0, hi = top;
    if (overflow(origins, top) <= 0) hi = 0;
    for (int i = 0; i < kBisect && hi > 0; ++i) {
      const double mid = 0.5 * (lo + hi);
      if (mid <= lo || mid >= hi) break;  // as close as doubles get
      if (mid * cap >= overflow(origins, top - mid)) hi = mid;
      else lo = mid;
    }
    absorb = hi;
  }
  // Countries first: the continent tier rises only as far as it leaves each country its room;
  // what it cannot take then goes global.
  p.level = std::min(absorb, protect);
  p.overflow = overflow(origins, top - p.level);
  p.absorbed = std::min(p.overflow, p.level * cap);
  return p;
}

struct Plan {
  double g = 0;
  std::map<int64_t, ContinentPlan> continents;  // by the origins' continent id (0: none)
  double to_global = 0;
};

Plan plan_at(const World& w, const std::map<int64_t, std::vector<const Origin*>>& by_continent,
             double g) {
  Plan p;
  p.g = g;
  for (const auto& [id, origins] : by_continent) {
    ContinentPlan c = plan_continent(w, w.continent(id), origins, g);
    p.to_global += c.overflow - c.absorbed;
    p.continents.emplace(id, c);
  }
  return p;
}

}  // namespace

Mixture default_mixture(const BalanceInput& in, int64_t country, int64_t continent) {
  Mixture m;
  m.country = country;
  m.continent = continent;
  uint64_t in_country = 0, in_continent = 0;
  for (const auto& s : in.servers) {
    if (country != 0 && s.country == country) in_country += s.count;
    if (continent != 0 && s.continent == continent) in_continent += s.count;
  }
  if (country != 0 && in_country >= in.min_servers) m.own = 1;
  else if (continent != 0 && in_continent >= in.min_servers) m.near = 1;
  else m.global = 1;
  return m;
}

namespace {

using ByContinent = std::map<int64_t, std::vector<const Origin*>>;

// The plan at the world's bound: the lowest global level that takes what the continents send
// up. At G = bound nothing is answered below the global tier and G * W = bound * W >= demand,
// so it always exists.
Plan solve(const World& w, const ByContinent& by_continent) {
  double lo = 0, hi = w.bound;
  if (plan_at(w, by_continent, 0).to_global <= 0) hi = 0;
  for (int i = 0; i < kBisect && hi > 0; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;  // as close as doubles get
    if (mid * w.netspeed >= plan_at(w, by_continent, mid).to_global) hi = mid;
    else lo = mid;
  }
  return plan_at(w, by_continent, hi);
}

std::vector<Mixture> mixtures_of(const World& w, const Plan& plan) {
  std::vector<Mixture> out;
  for (const Origin& o : w.origins) {
    const ContinentPlan& c = plan.continents.at(o.continent);
    Mixture m;
    m.country = o.country;
    m.continent = o.continent;
    m.queries = o.queries;
    const double room = w.bound - plan.g - c.level;
    if (o.queries <= 0) {
      // No clients in the window: the nearest tier that still has room.
      if (o.tier > 0 && room > 0) m.own = 1;
      else if (w.tier_netspeed(w.continent(o.continent)) > 0 && c.absorbed >= c.overflow) m.near = 1;
      else m.global = 1;
      out.push_back(m);
      continue;
    }
    const double here = local(o, room);
    const double up = o.queries - here;
    const double taken = c.overflow > 0 ? up * std::min(1.0, c.absorbed / c.overflow) : 0.0;
    m.own = here / o.queries;
    m.near = taken / o.queries;
    m.global = std::max(0.0, 1.0 - m.own - m.near);
    out.push_back(m);
  }
  return out;
}

// The expected queries per unit of netspeed on the servers of each (country, continent) when
// every origin draws by `mixtures`: own country + continent tier + global tier.
std::map<std::pair<int64_t, int64_t>, double> group_loads(const World& w,
                                                         const std::vector<Mixture>& mixtures) {
  std::map<int64_t, double> own, near;
  double global = 0;
  for (const Mixture& m : mixtures) {
    own[m.country] += m.queries * m.own;
    near[m.continent] += m.queries * m.near;
    global += m.queries * m.global;
  }
  auto level = [](const std::map<int64_t, double>& q, int64_t id, const Zone* z) {
    auto it = q.find(id);
    return it == q.end() || !z || id == 0 ? 0.0 : it->second / z->netspeed;
  };
  std::map<std::pair<int64_t, int64_t>, double> out;
  for (const auto& s : w.servers) {
    out[{s.country, s.continent}] = level(own, s.country, w.country(s.country)) +
                                    level(near, s.continent, w.continent(s.continent)) +
                                    (w.netspeed > 0 ? global / w.netspeed : 0.0);
  }
  return out;
}

// The median server's load per unit of netspeed (the lower median, each server counted once).
double median_load(const World& w, const std::vector<Mixture>& mixtures) {
  const auto loads = group_loads(w, mixtures);
  std::vector<std::pair<double, uint64_t>> per;  // load, servers
  for (const auto& s : w.servers) per.emplace_back(loads.at({s.country, s.continent}), s.count);
  std::sort(per.begin(), per.end());
  if (w.servers_count == 0) return 0;
  const uint64_t middle = (w.servers_count - 1) / 2;
  uint64_t seen = 0;
  for (const auto& [load, n] : per) {
    seen += n;
    if (seen > middle) return load;
  }
  return per.empty() ? 0.0 : per.back().first;
}

}  // namespace

BalanceResult balance(const BalanceInput& in) {
  World w = canonical(in);
  BalanceResult r;
  if (w.netspeed <= 0 || w.demand <= 0) {
    for (const Origin& o : w.origins) {
      Mixture m = default_mixture(in, o.country, o.continent);
      m.queries = o.queries;
      r.mixtures.push_back(m);
    }
    return r;
  }
  r.average = w.demand / w.netspeed;
  ByContinent by_continent;
  for (const Origin& o : w.origins) by_continent[o.continent].push_back(&o);

  // The bound: factor times the average, unless the median server then carries less than
  // bound / factor. Then a bound in [average, factor * average] that is at most factor times
  // the median it leads to: at the average itself every server carries exactly the average
  // (none above it, and their mean is it), so the lower end always holds. The search keeps a
  // bracket [lo holds, hi does not] of h(bound) = bound - factor * median and narrows it by
  // false position (Illinois: the end kept twice has its h halved), to a billionth of the
  // bound; the result is the highest bound tried that held. A lower bound leaves more demand
  // to the global tier, which every server shares, so the median mostly rises as it falls.
  Plan plan = solve(w, by_continent);
  std::vector<Mixture> mixtures = mixtures_of(w, plan);
  double median = median_load(w, mixtures);
  const double top = w.bound;
  if (top > in.factor * median) {
    double lo = r.average, hi = top;
    double h_lo = (1 - in.factor) * r.average, h_hi = top - in.factor * median;
    bool have_lo = false;
    int kept = 0;  // -1: lo was kept last time, +1: hi was
    for (int i = 0; i < kBisectBound && hi - lo > kBoundPrecision * top; ++i) {
      double t = h_hi > h_lo ? hi - h_hi * (hi - lo) / (h_hi - h_lo) : 0.5 * (lo + hi);
      if (!(t > lo && t < hi)) t = 0.5 * (lo + hi);
      w.bound = t;
      Plan p = solve(w, by_continent);
      std::vector<Mixture> mx = mixtures_of(w, p);
      const double m = median_load(w, mx);
      const double h = t - in.factor * m;
      if (h <= 0) {
        lo = t;
        h_lo = h;
        plan = std::move(p);
        mixtures = std::move(mx);
        median = m;
        have_lo = true;
        if (h > -kBoundPrecision * top) break;  // at the median's bound, to the precision
        if (kept == -1) h_hi *= 0.5;
        kept = -1;
      } else {
        hi = t;
        h_hi = h;
        if (kept == 1) h_lo *= 0.5;
        kept = 1;
      }
    }
    w.bound = lo;
    if (!have_lo) {
      plan = solve(w, by_continent);
      mixtures = mixtures_of(w, plan);
      median = median_load(w, mixtures);
    }
  }
  r.bound = w.bound;
  r.median = median;
  r.global_level = plan.g;
  r.mixtures = std::move(mixtures);
  return r;
}

std::vector<CountryLoad> expected_load(const BalanceInput& in, const BalanceResult& r) {
  const World w = canonical(in);
  const auto loads = group_loads(w, r.mixtures);
  std::map<std::pair<int64_t, int64_t>, double> groups;
  for (const auto& s : in.servers) groups[{s.country, s.continent}] += s.netspeed;
  std::vector<CountryLoad> out;
  for (const auto& [key, netspeed] : groups) {
    out.push_back(CountryLoad{key.first, key.second, netspeed, loads.at(key)});
  }
  return out;
}

}  // namespace timepool::server
