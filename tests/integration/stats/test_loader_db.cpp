// The snapshot loader's read against a real PostgreSQL: the zones it gives each server are the
// rows the trigger keeps in server_zones (schema/0003_servers.sql), which the loader no longer
// reads (server/loader.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "server/loader.hpp"
#include "tests/support/pg_test_db.hpp"

using namespace timepool;
using namespace timepool::server;

namespace {

using Members = std::map<int64_t, std::vector<int64_t>>;  // server id -> sorted zone ids

Members from_loader(pg::Connection& c) {
  Members out;
  for (auto& s : fetch_source(c).servers) {
    std::sort(s.zones.begin(), s.zones.end());
    out[s.id] = s.zones;
  }
  return out;
}

Members from_table(pg::Connection& c) {
  Members out;
  auto r = c.exec("SELECT e.id, sz.zone_id FROM eligible_servers e "
                  "LEFT JOIN server_zones sz ON sz.server_id = e.id ORDER BY 1, 2");
  for (int i = 0; i < r.rows(); ++i) {
    auto& zones = out[r.get<int64_t>(i, 0)];
    if (!r.is_null(i, 1)) zones.push_back(r.get<int64_t>(i, 1));
  }
  return out;
}

}  // namespace

TEST_CASE("the loader gives every server the zones server_zones holds for it", "[loader_members]") {
  test::TestDb db;
  auto c = db.connect();
  const char* countries[] = {"de", "fr", "us", "gb", "jp", "br", "au", "za", "nz", "ca"};
  for (int i = 0; i < 40; ++i) {
    c.exec("INSERT INTO servers (address, country, netspeed, score) VALUES ($1::inet, $2, 1500, $3)",
           "192.0.2." + std::to_string(i + 1), countries[i % 10], i % 7 == 3 ? 0 : 15);
  }
  c.exec("INSERT INTO servers (address, country, netspeed, score) VALUES ('2001:db8::5', 'de', 3000, 15)");
  Members loader = from_loader(c);
  CHECK(loader.size() == 35);  // six are below the score that puts a server in DNS
  CHECK(loader == from_table(c));
  for (const auto& [id, zones] : loader) CHECK(zones.size() == 3);  // country, continent, global

  // An admin moves servers to another country: the loader follows the table.
  c.exec("UPDATE servers SET country = 'fr' WHERE country = 'de'");
  c.exec("UPDATE servers SET country = 'nz' WHERE address = '192.0.2.3'");
  loader = from_loader(c);
  CHECK(loader == from_table(c));
  const auto fr = c.exec("SELECT id FROM zones WHERE name = 'fr'").get<int64_t>(0, 0);
  const auto v6 = c.exec("SELECT id FROM servers WHERE address = '2001:db8::5'").get<int64_t>(0, 0);
  CHECK(std::count(loader[v6].begin(), loader[v6].end(), fr) == 1);
}

TEST_CASE("the loader reads ids, addresses and netspeeds as the table holds them", "[loader_rows]") {
  // The servers are read in binary (server/loader.cpp): each row must come out as the text
  // the database itself gives for it, IPv4 and IPv6, the largest netspeed and ids past 2^32.
  test::TestDb db;
  auto c = db.connect();
  c.exec("SELECT setval('servers_id_seq', 4294967290)");
  const char* addrs[] = {"192.0.2.1", "198.51.100.254", "203.0.113.9", "2001:db8::1",
                         "2001:db8:ffff:1:2:3:4:5", "2001:db8::ffff:c000:207"};
  const int speeds[] = {512, 1500, 3000000, 1000000, 25000, 100000};
  for (int i = 0; i < 6; ++i) {
    c.exec("INSERT INTO servers (address, country, netspeed, score) VALUES ($1::inet, 'de', $2, 15)",
           addrs[i], speeds[i]);
  }
  std::map<int64_t, std::pair<std::string, uint32_t>> want, got;
  auto r = c.exec("SELECT id, host(address), netspeed FROM eligible_servers");
  for (int i = 0; i < r.rows(); ++i) {
    want[r.get<int64_t>(i, 0)] = {r.get<std::string>(i, 1), static_cast<uint32_t>(r.get<int64_t>(i, 2))};
  }
  for (const auto& s : fetch_source(c).servers) got[s.id] = {format_address(s), s.netspeed};
  CHECK(want.size() == 6);
  CHECK(want.begin()->first > 4294967290);
  CHECK(got == want);
}

TEST_CASE("binary results: raw bytes, and get<> refuses them", "[loader_rows]") {
  test::TestDb db;
  auto c = db.connect();
  auto r = c.exec_binary("SELECT 258::int8, 7::int4, 'de'::text, NULL::int8, '10.1.2.3'::inet");
  const std::vector<uint8_t> id(r.bytes(0, 0).begin(), r.bytes(0, 0).end());
  CHECK(id == std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 1, 2});
  CHECK(r.bytes(0, 1).size() == 4);
  CHECK(std::string(r.bytes(0, 2).begin(), r.bytes(0, 2).end()) == "de");
  CHECK(r.bytes(0, 3).empty());
  ServerRow s;
  CHECK(parse_inet_binary(r.bytes(0, 4), s));
  CHECK(format_address(s) == "10.1.2.3");
  CHECK_THROWS_AS(r.get<int64_t>(0, 0), pg::Error);
  CHECK_THROWS_AS(r.get<std::optional<std::string>>(0, 2), pg::Error);
  CHECK(!r.get<std::optional<int64_t>>(0, 3));  // NULL is NULL in either format
  CHECK(c.exec("SELECT 258::int8").get<int64_t>(0, 0) == 258);
}
