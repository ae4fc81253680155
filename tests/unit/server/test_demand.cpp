#include "server/demand.hpp"

#include <catch2/catch.hpp>

using namespace timepool::server;

namespace {

ZoneRow zone(int64_t id, const char* name, ZoneKind kind, std::optional<int64_t> parent,
             std::optional<int64_t> alias = std::nullopt) {
  ZoneRow z;
  z.id = id;
  z.name = name;
  z.kind = kind;
  z.parent_id = parent;
  z.alias_of = alias;
  return z;
}

// '@' 1, europe 2, asia 3, de 10, lu 11, gb 12, uk 13 (alias of gb), jp 20, acme 30 (vendor).
SourceData source() {
  SourceData src;
  src.zones = {zone(1, "@", ZoneKind::Global, std::nullopt),
               zone(2, "europe", ZoneKind::Continent, 1),
               zone(3, "asia", ZoneKind::Continent, 1),
               zone(10, "de", ZoneKind::Country, 2),
               zone(11, "lu", ZoneKind::Country, 2),
               zone(12, "gb", ZoneKind::Country, 2),
               zone(13, "uk", ZoneKind::Country, 2, 12),
               zone(20, "jp", ZoneKind::Country, 3),
               zone(30, "acme", ZoneKind::Vendor, 1)};
  int64_t id = 1;
  auto add = [&](int64_t country, int64_t continent, uint32_t netspeed, int n, bool v6 = false) {
    for (int i = 0; i < n; ++i) {
      ServerRow s;
      s.id = id++;
      s.v6 = v6;
      s.netspeed = netspeed;
      s.zones = {1, continent, country};
      src.servers.push_back(s);
    }
  };
  add(10, 2, 100000, 10);
  add(11, 2, 512, 3);
  add(12, 2, 25000, 4);
  add(20, 3, 50000, 4);
  add(10, 2, 100000, 4, true);
  return src;
}

}  // namespace

TEST_CASE("demand: rows become origins per family, the balancer's mixtures come out") {
  const auto src = source();
  BalancerSettings b;
  const std::vector<DemandRow> demand = {{10, false, 100}, {11, false, 3000}, {13, false, 50},
                                         {20, false, 10},  {1, false, 20},    {2, false, 5},
                                         {30, false, 999}, {10, true, 40}};
  const auto m = mixtures_from(src, demand, b);
  // lu has far more clients than its 3 small servers may carry.
  const MixtureRow* lu = m->find(false, 11, 2);
  REQUIRE(lu);
  CHECK(lu->own < 0.01);
  // uk counts for gb, its target; de, jp within the bound stay home.
  REQUIRE(m->find(false, 12, 2));
  CHECK(m->find(false, 13, 2) == nullptr);
  CHECK(m->find(false, 10, 2)->own == Approx(1.0));
  CHECK(m->find(false, 20, 3)->own == Approx(1.0));
  // Unlocated clients (the global zone) and an explicit continent name are origins too; a
  // vendor zone is not (its clients are counted by country).
  CHECK(m->find(false, 0, 0)->global == Approx(1.0));
  CHECK(m->find(false, 0, 2) != nullptr);
  CHECK(m->size() == 7);  // de, lu, gb, jp, unlocated, europe (v4); de (v6)
  // IPv6 is balanced over the IPv6 servers alone.
  CHECK(m->find(true, 10, 2)->own == Approx(1.0));
  CHECK(m->find(true, 11, 2) == nullptr);
}

TEST_CASE("demand: no rows, no mixtures (the plain geo rule answers)") {
  CHECK(mixtures_from(source(), {}, BalancerSettings{})->empty());
}
