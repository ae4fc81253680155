#include "server/balancer.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

namespace timepool::server {

namespace {

// 64 halvings of [0, bound]: far below any difference a load or a share could show.
constexpr int kBisect = 64;

struct Zone {
  double netspeed = 0;
  uint64_t count = 0;
};

struct Origin {
  int64_t country = 0, continent = 0;
  double queries = 0;
};

// The input in canonical form: origins and zones in key order, so the arithmetic below runs in
// the same order whatever the order of the input rows.
struct World {
  std::vector<Origin> origins;
  std::map<int64_t, Zone> countries;   // by country zone id (servers only)
  std::map<int64_t, Zone> continents;  // by continent zone id (servers only)
  double netspeed = 0;
  uint64_t servers = 0;
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
  std::vector<BalanceServer> servers = in.servers;
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
    w.servers += s.count;
  }
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
double local(const World& w, const Origin& o, double room) {
  const double cap = w.tier_netspeed(w.country(o.country));
  return std::min(o.queries, std::max(0.0, room) * cap);
}

double overflow(const World& w, const std::vector<const Origin*>& origins, double room) {
  double f = 0;
  for (const Origin* o : origins) f += o->queries - local(w, *o, room);
  return f;
}

ContinentPlan plan_continent(const World& w, const Zone* zone,
                             const std::vector<const Origin*>& origins, double g) {
  ContinentPlan p;
  const double top = std::max(0.0, w.bound - g);  // room per netspeed below the bound
  const double cap = w.tier_netspeed(zone);
  if (cap <= 0) {
    p.overflow = overflow(w, origins, top);
    return p;
  }
  // The level that protects the countries: the lowest at which every country with clients
  // and room left is full (its own clients plus the continent tier reach the bound there).
  // A country over the bound already at level 0 is full at any level and does not count, nor
  // does one without a country tier, so a first small server in a country never pulls the
  // level down.
  double fullest = -1;
  for (const Origin* o : origins) {
    const double c = w.tier_netspeed(w.country(o->country));
    if (o->queries <= 0 || c <= 0 || o->queries / c >= top) continue;
    fullest = fullest < 0 ? o->queries / c : std::min(fullest, o->queries / c);
  }
  const double protect = fullest < 0 ? top : top - fullest;
  // The level that takes all the overflow, when the continent can hold its clients (B * W_m
  // grows with B at least as fast as the overflow does, so bisection finds the lowest); else
  // the bound itself.
  double demand = 0;
  for (const Origin* o : origins) demand += o->queries;
  double absorb = top;
  if (demand <= top * cap) {
    double lo = 0, hi = top;
    if (overflow(w, origins, top) <= 0) hi = 0;
    for (int i = 0; i < kBisect && hi > 0; ++i) {
      const double mid = 0.5 * (lo + hi);
      if (mid * cap >= overflow(w, origins, top - mid)) hi = mid;
      else lo = mid;
    }
    absorb = hi;
  }
  // Countries first: the continent tier rises only as far as it leaves each country its room;
  // what it cannot take then goes global.
  p.level = std::min(absorb, protect);
  p.overflow = overflow(w, origins, top - p.level);
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

BalanceResult balance(const BalanceInput& in) {
  const World w = canonical(in);
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
  r.bound = w.bound;
  std::map<int64_t, std::vector<const Origin*>> by_continent;
  for (const Origin& o : w.origins) by_continent[o.continent].push_back(&o);

  // The lowest global level that takes what the continents send up. At G = bound nothing is
  // answered below the global tier and G * W = bound * W >= demand, so it always exists.
  double lo = 0, hi = w.bound;
  if (plan_at(w, by_continent, 0).to_global <= 0) hi = 0;
  for (int i = 0; i < kBisect && hi > 0; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid * w.netspeed >= plan_at(w, by_continent, mid).to_global) hi = mid;
    else lo = mid;
  }
  const Plan plan = plan_at(w, by_continent, hi);
  r.global_level = hi;

  for (const Origin& o : w.origins) {
    const ContinentPlan& c = plan.continents.at(o.continent);
    Mixture m;
    m.country = o.country;
    m.continent = o.continent;
    m.queries = o.queries;
    const double room = w.bound - plan.g - c.level;
    if (o.queries <= 0) {
      // No clients in the window: the nearest tier that still has room.
      if (w.tier_netspeed(w.country(o.country)) > 0 && room > 0) m.own = 1;
      else if (w.tier_netspeed(w.continent(o.continent)) > 0 && c.absorbed >= c.overflow) m.near = 1;
      else m.global = 1;
      r.mixtures.push_back(m);
      continue;
    }
    const double here = local(w, o, room);
    const double up = o.queries - here;
    const double taken = c.overflow > 0 ? up * std::min(1.0, c.absorbed / c.overflow) : 0.0;
    m.own = here / o.queries;
    m.near = taken / o.queries;
    m.global = std::max(0.0, 1.0 - m.own - m.near);
    r.mixtures.push_back(m);
  }
  return r;
}

std::vector<CountryLoad> expected_load(const BalanceInput& in, const BalanceResult& r) {
  const World w = canonical(in);
  std::map<int64_t, double> own, near;
  double global = 0;
  for (const Mixture& m : r.mixtures) {
    own[m.country] += m.queries * m.own;
    near[m.continent] += m.queries * m.near;
    global += m.queries * m.global;
  }
  auto level = [](const std::map<int64_t, double>& q, int64_t id, const Zone* z) {
    auto it = q.find(id);
    return it == q.end() || !z || id == 0 ? 0.0 : it->second / z->netspeed;
  };
  std::map<std::pair<int64_t, int64_t>, double> groups;
  for (const auto& s : in.servers) groups[{s.country, s.continent}] += s.netspeed;
  std::vector<CountryLoad> out;
  for (const auto& [key, netspeed] : groups) {
    CountryLoad l;
    l.country = key.first;
    l.continent = key.second;
    l.netspeed = netspeed;
    l.load = level(own, key.first, w.country(key.first)) +
             level(near, key.second, w.continent(key.second)) +
             (w.netspeed > 0 ? global / w.netspeed : 0.0);
    out.push_back(l);
  }
  return out;
}

}  // namespace timepool::server
