#include <catch2/catch.hpp>

#include "web/country.hpp"

using namespace timepool;
using namespace timepool::web;

TEST_CASE("GeoIP's country wins, else the volunteer's choice", "[web][country]") {
  // 1.0.0.0-1.0.0.255 AU, 2.0.0.0-2.0.0.255 unknown; 2001:200::/32 JP.
  auto geo = geo::RangeGeoDb::parse("16777216,16777471,AU\n33554432,33554687,??\n",
                                    "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n");
  REQUIRE(geo);
  CHECK(pick_country(geo.get(), *address::parse("1.0.0.7"), "de") == "au");
  CHECK(pick_country(geo.get(), *address::parse("2001:200::1"), "") == "jp");
  CHECK(pick_country(geo.get(), *address::parse("2.0.0.1"), " DE ") == "de");  // unknown range
  CHECK(pick_country(geo.get(), *address::parse("9.9.9.9"), "fr") == "fr");    // not in the data
  CHECK(pick_country(nullptr, *address::parse("1.0.0.7"), "Gb") == "gb");
  CHECK(pick_country(nullptr, *address::parse("1.0.0.7"), "").empty());
}
