#include "server/zone.hpp"

#include <catch2/catch.hpp>

using namespace timepool::server;

TEST_CASE("parse_zone_kind reads the zones.kind column and refuses anything else") {
  for (ZoneKind k : {ZoneKind::Global, ZoneKind::Continent, ZoneKind::Country, ZoneKind::Vendor}) {
    INFO(zone_kind_name(k));
    CHECK(parse_zone_kind(zone_kind_name(k)) == k);
  }
  CHECK(zone_kind_name(ZoneKind::Country) == "country");
  CHECK(zone_kind_name(ZoneKind::Continent) == "continent");
  // Unknown kinds are refused, never taken for a country.
  CHECK_FALSE(parse_zone_kind("Country"));
  CHECK_FALSE(parse_zone_kind("region"));
  CHECK_FALSE(parse_zone_kind(""));
  CHECK_FALSE(parse_zone_kind("country "));
}

TEST_CASE("parse_client_type reads vendor_zones.client_type and refuses anything else") {
  for (ClientType c : {ClientType::Ntp, ClientType::Sntp, ClientType::Both}) {
    INFO(client_type_name(c));
    CHECK(parse_client_type(client_type_name(c)) == c);
  }
  CHECK(client_type_name(ClientType::Sntp) == "sntp");
  CHECK_FALSE(parse_client_type("NTP"));
  CHECK_FALSE(parse_client_type("all"));
  CHECK_FALSE(parse_client_type(""));
}
