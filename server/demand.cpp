#include "server/demand.hpp"

#include <unordered_map>

#include "core/pg.hpp"
#include "server/balancer.hpp"

namespace timepool::server {

namespace {

struct Origin {
  int64_t country = 0, continent = 0;
};

const ZoneRow* find(const std::unordered_map<int64_t, const ZoneRow*>& zones, int64_t id) {
  auto it = zones.find(id);
  return it == zones.end() ? nullptr : it->second;
}

}  // namespace

BalanceInput balance_input(const SourceData& src, const std::vector<DemandRow>& demand,
                           const BalancerSettings& settings, bool v6) {
  std::unordered_map<int64_t, const ZoneRow*> zones;
  for (const auto& z : src.zones) zones.emplace(z.id, &z);
  // The origin a demand row counts for: a country and its continent, a continent, or none.
  auto origin_of = [&](int64_t zone_id, Origin& o) {
    const ZoneRow* z = find(zones, zone_id);
    if (z && z->alias_of) z = find(zones, *z->alias_of);
    if (!z) return false;
    if (z->kind == ZoneKind::Country) {
      o.country = z->id;
      const ZoneRow* p = z->parent_id ? find(zones, *z->parent_id) : nullptr;
      o.continent = p && p->kind == ZoneKind::Continent ? p->id : 0;
    } else if (z->kind == ZoneKind::Continent) {
      o.continent = z->id;
    } else if (z->kind != ZoneKind::Global) {
      return false;
    }
    return true;
  };
  BalanceInput in;
  in.factor = settings.factor;
  in.min_servers = settings.min_servers;
  for (const auto& d : demand) {
    Origin o;
    if (d.v6 == v6 && origin_of(d.zone_id, o)) in.demand.push_back({o.country, o.continent, d.queries});
  }
  for (const auto& s : src.servers) {
    if (s.v6 != v6 || s.netspeed == 0) continue;
    BalanceServer b;
    b.netspeed = s.netspeed;
    for (int64_t id : s.zones) {
      const ZoneRow* z = find(zones, id);
      if (!z || z->alias_of) continue;
      if (z->kind == ZoneKind::Country) b.country = z->id;
      if (z->kind == ZoneKind::Continent) b.continent = z->id;
    }
    in.servers.push_back(b);
  }
  return in;
}

std::shared_ptr<const Mixtures> mixtures_from(const SourceData& src,
                                              const std::vector<DemandRow>& demand,
                                              const BalancerSettings& settings) {
  std::vector<MixtureRow> rows;
  for (const bool v6 : {false, true}) {
    const BalanceInput in = balance_input(src, demand, settings, v6);
    if (in.demand.empty()) continue;
    for (const auto& m : balance(in).mixtures) {
      rows.push_back(MixtureRow{v6, m.country, m.continent, m.own, m.near, m.global});
    }
  }
  return std::make_shared<const Mixtures>(rows);
}

std::vector<DemandRow> fetch_demand(pg::Connection& conn, std::chrono::seconds window) {
  std::vector<DemandRow> out;
  if (!conn.exec("SELECT to_regclass('dns_demand') IS NOT NULL").get<bool>(0, 0)) return out;
  auto r = conn.exec(
      "SELECT zone_id, family, sum(count)::float8 FROM dns_demand "
      "WHERE minute >= now() - make_interval(secs => $1::float8) GROUP BY zone_id, family "
      "ORDER BY zone_id, family",
      static_cast<int64_t>(window.count()));
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(DemandRow{r.get<int64_t>(i, 0), r.get<int64_t>(i, 1) == 6, r.get<double>(i, 2)});
  }
  return out;
}

}  // namespace timepool::server
