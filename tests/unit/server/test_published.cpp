// The published object: one atomic load gives a worker a snapshot with the geo view and the
// statistics slots made for exactly that snapshot.
#include "server/published.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

#include "dns_test_util.hpp"

using namespace timepool;
using namespace timepool::server;
using namespace timepool::server::test;

namespace {

constexpr const char* kRanges = "889192448,905969663,DE\n";  // 53.0.0.0/8 de

GeoSettings geo_on() {
  GeoSettings s;
  s.enabled = true;
  return s;
}

}  // namespace

TEST_CASE("Before the first snapshot the published object is empty, never null") {
  stats::QueryStats qs;
  Publisher pub(&qs);
  auto p = pub.load();
  REQUIRE(p);
  CHECK(p->snapshot == nullptr);
  CHECK(p->geo == nullptr);
  CHECK(p->stats == nullptr);
  // Geo settings alone publish nothing to answer from.
  pub.configure_geo(geo::RangeGeoDb::parse(kRanges, ""), geo_on());
  CHECK(pub.load()->snapshot == nullptr);
  CHECK(pub.load()->geo == nullptr);
}

TEST_CASE("publish() builds the geo view and the statistics slots of that snapshot") {
  stats::QueryStats qs;
  Publisher pub(&qs);
  pub.configure_geo(geo::RangeGeoDb::parse(kRanges, ""), geo_on());
  auto snap = Snapshot::build(fixture(), 7);
  pub.publish(snap);
  auto p = pub.load();
  REQUIRE(p->snapshot == snap);
  REQUIRE(p->geo);
  CHECK(p->geo->snapshot() == snap.get());
  REQUIRE(p->stats);
  // Every entry of every pool has the slot QueryStats gives its server id; zones likewise,
  // and "no zone" counts under the global zone.
  for (uint32_t i = 0; i < snap->pool_count(); ++i) {
    const Pool& pool = snap->pool(i);
    for (uint32_t e = 0; e < pool.size(); ++e) {
      CHECK(p->stats->server_slot(i, e) == qs.server_slot(snap->server_id(pool.server(e))));
    }
  }
  for (size_t z = 0; z < snap->zones().size(); ++z) {
    CHECK(p->stats->zone_slot(static_cast<int32_t>(z)) ==
          qs.zone_slot(static_cast<int32_t>(snap->zones()[z].id)));
  }
  CHECK(p->stats->zone_slot(-1) == qs.zone_slot(1));
}

TEST_CASE("A new snapshot takes over the slots of the servers it shares with the last one") {
  stats::QueryStats qs;
  Publisher pub(&qs);
  // Every server's slot is the one QueryStats gives its id, whatever came before.
  auto check_slots = [&](const Snapshot& snap, const StatsSlots& slots) {
    size_t checked = 0;
    for (uint32_t i = 0; i < snap.pool_count(); ++i) {
      const Pool& pool = snap.pool(i);
      for (uint32_t e = 0; e < pool.size(); ++e, ++checked) {
        INFO("server " << snap.server_id(pool.server(e)));
        REQUIRE(slots.server_slot(i, e) == qs.server_slot(snap.server_id(pool.server(e))));
      }
    }
    return checked;
  };
  SourceData src = fixture();
  pub.publish(Snapshot::build(src, 1));
  CHECK(check_slots(*pub.load()->snapshot, *pub.load()->stats) > 0);
  // Servers leave and join on both sides of the ones that stay, so every dense index moves:
  // 100 and 205 go, 99, 150 and 400 come (99 sorts first, 400 last).
  src.servers.erase(std::remove_if(src.servers.begin(), src.servers.end(),
                                   [](const ServerRow& s) { return s.id == 100 || s.id == 205; }),
                    src.servers.end());
  src.servers.push_back(timepool::server::test::server(99, "192.0.2.99", 1500, {1, 2, 3}));
  src.servers.push_back(timepool::server::test::server(150, "2001:db8::150", 1500, {1, 2, 3}));
  src.servers.push_back(timepool::server::test::server(400, "198.51.100.40", 1500, {1, 2, 4}));
  for (uint32_t serial = 2; serial <= 3; ++serial) {  // 3: the same servers again
    auto snap = Snapshot::build(src, serial);
    pub.publish(snap);
    REQUIRE(pub.load()->snapshot == snap);
    CHECK(check_slots(*snap, *pub.load()->stats) > 0);
  }
  // Back to the first servers: the slots of 100 and 205 are theirs again, not new ones.
  const uint32_t slot100 = qs.server_slot(100);
  pub.publish(Snapshot::build(fixture(), 4));
  check_slots(*pub.load()->snapshot, *pub.load()->stats);
  CHECK(qs.server_slot(100) == slot100);
}

TEST_CASE("configure_geo() republishes the current snapshot, publish() keeps the settings") {
  stats::QueryStats qs;
  Publisher pub(&qs);
  auto snap = Snapshot::build(fixture(), 7);
  pub.publish(snap);
  CHECK(pub.load()->geo == nullptr);  // geo is off until configured
  const auto slots = pub.load()->stats;
  pub.configure_geo(geo::RangeGeoDb::parse(kRanges, ""), geo_on());
  auto p = pub.load();
  CHECK(p->snapshot == snap);
  REQUIRE(p->geo);
  CHECK(p->stats == slots);  // same snapshot: the slots are reused, not rebuilt

  auto next = Snapshot::build(fixture(), 8);
  pub.publish(next);
  p = pub.load();
  CHECK(p->snapshot == next);
  REQUIRE(p->geo);
  CHECK(p->geo->snapshot() == next.get());
  CHECK(p->stats != slots);

  GeoSettings off;
  off.enabled = false;
  pub.configure_geo(nullptr, off);
  CHECK(pub.load()->geo == nullptr);
  CHECK(pub.load()->snapshot == next);
}

TEST_CASE("Without statistics no slots are built") {
  Publisher pub(nullptr);
  pub.publish(Snapshot::build(fixture(), 1));
  CHECK(pub.load()->snapshot);
  CHECK(pub.load()->stats == nullptr);
}

TEST_CASE("Readers always see a geo view made for the snapshot they loaded") {
  stats::QueryStats qs;
  Publisher pub(&qs);
  pub.configure_geo(geo::RangeGeoDb::parse(kRanges, ""), geo_on());
  std::atomic<bool> done{false};
  std::atomic<uint64_t> mismatches{0}, seen{0};
  std::thread reader([&] {
    while (!done.load()) {
      const auto p = pub.load();
      if (!p->snapshot) continue;
      ++seen;
      if (!p->geo || p->geo->snapshot() != p->snapshot.get() || !p->stats) ++mismatches;
    }
  });
  for (uint32_t serial = 1; serial <= 50; ++serial) {
    pub.publish(Snapshot::build(fixture(), serial));
    if (serial % 10 == 0) pub.configure_geo(geo::RangeGeoDb::parse(kRanges, ""), geo_on());
  }
  while (seen.load() == 0) std::this_thread::yield();
  done = true;
  reader.join();
  CHECK(mismatches.load() == 0);
  CHECK(pub.load()->snapshot->serial() == 50);
}
