#include "server/zone_fallback.hpp"

#include <catch2/catch.hpp>

using namespace timepool::server;
using timepool::geo::CountryCode;

namespace {

enum : int64_t { kGlobal = 1, kEurope = 2, kAsia = 3, kDe = 10, kLu = 11, kGb = 12, kUk = 13,
                 kJp = 20, kAcme = 30 };

ZoneTree tree() {
  return ZoneTree({
      {kGlobal, "@", ZoneKind::Global, std::nullopt, std::nullopt},
      {kEurope, "europe", ZoneKind::Continent, kGlobal, std::nullopt},
      {kAsia, "asia", ZoneKind::Continent, kGlobal, std::nullopt},
      {kDe, "de", ZoneKind::Country, kEurope, std::nullopt},
      {kLu, "lu", ZoneKind::Country, kEurope, std::nullopt},
      {kGb, "gb", ZoneKind::Country, kEurope, std::nullopt},
      {kUk, "uk", ZoneKind::Country, kEurope, kGb},
      {kJp, "jp", ZoneKind::Country, kAsia, std::nullopt},
      {kAcme, "acme", ZoneKind::Vendor, kGlobal, std::nullopt},
  });
}

std::optional<CountryCode> cc(const char* s) { return CountryCode::parse(s); }

}  // namespace

TEST_CASE("ZoneTree resolves countries, aliases and continents") {
  auto t = tree();
  CHECK(t.global().id == kGlobal);
  CHECK(t.country(*cc("DE"))->id == kDe);
  CHECK(t.country(*cc("uk"))->id == kGb);   // alias
  CHECK(t.country(*cc("eu")) == nullptr);   // a code with no zone
  CHECK(t.country(*cc("eu")) == nullptr);
  CHECK(t.continent_of(*t.find(kLu))->id == kEurope);
  CHECK(t.continent_of(*t.find(kUk))->id == kEurope);
  CHECK(t.continent_of(*t.find(kEurope)) == nullptr);
  CHECK(t.find_name("acme")->kind == ZoneKind::Vendor);
  CHECK(t.find(999) == nullptr);
}

TEST_CASE("ZoneTree refuses rows that are not a tree") {
  using R = std::vector<ZoneRow>;
  CHECK_THROWS_AS(ZoneTree(R{{2, "europe", ZoneKind::Continent, 1, std::nullopt}}),
                  std::invalid_argument);  // no global, unknown parent
  CHECK_THROWS_AS(ZoneTree(R{{1, "@", ZoneKind::Global, std::nullopt, std::nullopt},
                             {1, "x", ZoneKind::Vendor, 1, std::nullopt}}),
                  std::invalid_argument);  // duplicate id
  CHECK_THROWS_AS(ZoneTree(R{{1, "@", ZoneKind::Global, std::nullopt, std::nullopt},
                             {2, "@@", ZoneKind::Global, std::nullopt, std::nullopt}}),
                  std::invalid_argument);  // two globals
  CHECK_THROWS_AS(ZoneTree(R{{1, "@", ZoneKind::Global, std::nullopt, std::nullopt},
                             {2, "uk", ZoneKind::Country, 1, 77}}),
                  std::invalid_argument);  // alias of nothing
}

TEST_CASE("geo rule: a country needs min_servers, else its continent, else global") {
  auto t = tree();
  for (uint32_t n = 0; n <= 3; ++n) {
    for (uint32_t c = 0; c <= 3; ++c) {
      ServerCounts counts{{kLu, n}, {kEurope, c + n}, {kGlobal, 100}};
      auto choice = choose_geo_zone(t, cc("LU"), counts, 3);
      INFO("lu=" << n << " europe=" << c + n << ": " << choice.reason);
      int32_t want = n >= 3 ? kLu : (c + n >= 3 ? kEurope : kGlobal);
      CHECK(choice.zone_id == want);
      CHECK_FALSE(choice.reason.empty());
    }
  }
  ServerCounts counts{{kLu, 1}, {kEurope, 40}, {kGlobal, 100}};
  auto c = choose_geo_zone(t, cc("lu"), counts);
  CHECK(c.zone_name == "europe");
  CHECK(c.reason == "country lu has 1 server (< 3); continent europe has 40 servers (>= 3)");
  c = choose_geo_zone(t, cc("lu"), ServerCounts{{kLu, 2}, {kEurope, 2}});
  CHECK(c.zone_id == kGlobal);
  CHECK(c.reason ==
        "country lu has 2 servers (< 3); continent europe has 2 servers (< 3): global");
  c = choose_geo_zone(t, cc("de"), ServerCounts{{kDe, 3}});
  CHECK(c.reason == "country de has 3 servers (>= 3)");
}

TEST_CASE("geo rule: min_servers is configurable, aliases and unknown clients") {
  auto t = tree();
  ServerCounts counts{{kLu, 1}, {kEurope, 5}, {kGb, 4}, {kGlobal, 50}};
  CHECK(choose_geo_zone(t, cc("lu"), counts, 1).zone_id == kLu);
  CHECK(choose_geo_zone(t, cc("lu"), counts, 2).zone_id == kEurope);
  CHECK(choose_geo_zone(t, cc("lu"), counts, 6).zone_id == kGlobal);
  CHECK(choose_geo_zone(t, cc("uk"), counts).zone_id == kGb);
  CHECK(choose_geo_zone(t, cc("gb"), counts).zone_id == kGb);
  auto c = choose_geo_zone(t, cc("eu"), counts);
  CHECK(c.zone_id == kGlobal);
  CHECK(c.reason == "no zone for country eu: global");
  c = choose_geo_zone(t, std::nullopt, counts);
  CHECK(c.zone_id == kGlobal);
  CHECK(c.reason == "client not located: global");
}

TEST_CASE("explicit names answer from their zone, falling back only when it is empty") {
  auto t = tree();
  for (uint32_t n = 0; n <= 3; ++n) {
    ServerCounts counts{{kLu, n}, {kEurope, n + 4}, {kGlobal, 100}};
    auto c = choose_explicit_zone(t, kLu, counts);
    INFO("lu=" << n << ": " << c.reason);
    CHECK(c.zone_id == (n == 0 ? kEurope : kLu));
  }
  CHECK(choose_explicit_zone(t, kLu, ServerCounts{{kGlobal, 9}}).zone_id == kGlobal);
  CHECK(choose_explicit_zone(t, kLu, ServerCounts{{kGlobal, 9}}).reason ==
        "zone lu asked for, no servers; continent europe has none: global");
  CHECK(choose_explicit_zone(t, kEurope, ServerCounts{{kEurope, 1}}).zone_id == kEurope);
  CHECK(choose_explicit_zone(t, kEurope, ServerCounts{{kGlobal, 1}}).zone_id == kGlobal);
  auto uk = choose_explicit_zone(t, kUk, ServerCounts{{kGb, 2}});
  CHECK(uk.zone_id == kGb);
  CHECK(uk.reason == "uk is an alias of gb; zone gb asked for, 2 servers");
  CHECK(choose_explicit_zone(t, kAcme, ServerCounts{}).zone_id == kAcme);
  CHECK(choose_explicit_zone(t, kGlobal, ServerCounts{}).zone_id == kGlobal);
  CHECK_THROWS_AS(choose_explicit_zone(t, 999, ServerCounts{}), std::invalid_argument);
}

TEST_CASE("GeoSelector precomputes exactly what the rules answer") {
  auto t = tree();
  ServerCounts counts{{kDe, 7}, {kLu, 1}, {kEurope, 9}, {kJp, 2}, {kAsia, 2}, {kGlobal, 20}};
  GeoSelector sel(t, counts, 3);
  for (char a = 'a'; a <= 'z'; ++a) {
    for (char b = 'a'; b <= 'z'; ++b) {
      const char s[3] = {a, b, 0};
      auto code = cc(s);
      CHECK(sel.for_client(code).zone_id == choose_geo_zone(t, code, counts, 3).zone_id);
    }
  }
  CHECK(sel.for_client(cc("de")).zone_id == kDe);
  CHECK(sel.for_client(cc("LU")).zone_id == kEurope);
  CHECK(sel.for_client(cc("jp")).zone_id == kGlobal);
  CHECK(sel.for_client(std::nullopt).zone_id == kGlobal);
  CHECK(sel.for_explicit(kLu)->zone_id == kLu);
  CHECK(sel.for_explicit(kUk)->zone_id == kEurope);  // gb is empty
  CHECK(sel.for_explicit(999) == nullptr);
}
