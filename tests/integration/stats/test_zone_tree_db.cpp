// The geo selection rule over the real zones table.
#include <catch2/catch.hpp>

#include "server/zone_fallback.hpp"
#include "tests/support/pg_test_db.hpp"

using namespace timepool;
using namespace timepool::server;
using timepool::geo::CountryCode;

TEST_CASE("ZoneTree loads the zones table: every country under a continent, uk -> gb",
          "[zones_db]") {
  test::TestDb db;
  auto c = db.connect();
  ZoneTree tree = load_zone_tree(c);
  const auto& rows = tree.rows();
  size_t countries = 0;
  for (const auto& z : rows) {
    if (z.kind != ZoneKind::Country) continue;
    ++countries;
    INFO(z.name);
    CHECK(tree.continent_of(z) != nullptr);
    auto cc = CountryCode::parse(z.name);
    REQUIRE(cc);
    CHECK(tree.country(*cc) != nullptr);
  }
  CHECK(countries > 240);
  CHECK(tree.country(*CountryCode::parse("UK"))->name == "gb");
  CHECK(tree.continent_of(*tree.find_name("de"))->name == "europe");
  CHECK(tree.continent_of(*tree.find_name("uk"))->name == "europe");

  // Three servers in de: clients there stay in de; a client in at falls back to europe.
  auto counts_of = [&] {
    ServerCounts counts;
    auto r = c.exec("SELECT zone_id, count(*)::bigint AS n FROM server_zones sz "
                    "JOIN eligible_servers s ON s.id = sz.server_id GROUP BY zone_id");
    for (int i = 0; i < r.rows(); ++i) {
      counts[r.get<int64_t>(i, "zone_id")] = static_cast<uint32_t>(r.get<int64_t>(i, "n"));
    }
    return counts;
  };
  for (const char* a : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
    c.exec("INSERT INTO servers (address, netspeed, country, score) VALUES ($1, 1500, 'de', 20)",
           a);
  }
  c.exec("INSERT INTO servers (address, netspeed, country, score) VALUES ('192.0.2.4', 1500, "
         "'at', 20)");
  GeoSelector sel(tree, counts_of(), 3);
  CHECK(sel.for_client(CountryCode::parse("de")).zone_name == "de");
  CHECK(sel.for_client(CountryCode::parse("at")).zone_name == "europe");
  CHECK(sel.for_client(CountryCode::parse("jp")).zone_name == "@");
  CHECK(sel.for_explicit(tree.find_name("at")->id)->zone_name == "at");
  CHECK(sel.for_explicit(tree.find_name("fr")->id)->zone_name == "europe");
}
