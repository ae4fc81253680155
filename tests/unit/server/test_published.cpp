// The published object: one atomic load gives a worker a snapshot with the geo view and the
// statistics slots made for exactly that snapshot.
#include "server/published.hpp"

#include <catch2/catch.hpp>

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
