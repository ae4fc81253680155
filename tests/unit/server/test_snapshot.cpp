#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <set>

#include "dns_test_util.hpp"
#include "server/snapshot.hpp"

using namespace timepool::server;
using namespace timepool::server::test;

namespace {
// The database ids of a pool's servers.
std::set<int64_t> ids(const Snapshot& s, const Pool& p) {
  std::set<int64_t> out;
  for (size_t i = 0; i < p.size(); ++i) out.insert(s.server_id(p.server(i)));
  return out;
}
}  // namespace

TEST_CASE("Snapshot names: zones, numbered labels, aliases, vendor labels, empty non-terminals") {
  auto s = Snapshot::build(fixture(), 7);
  for (const char* n : {"", "0", "3", "europe", "2.europe", "de", "1.de", "gb", "uk", "0.uk",
                        "asia", "0.asia", "0.acme", "acme", "sntpco", "bothco", "0.bothco"}) {
    INFO(n);
    CHECK(s->find(n) != nullptr);
  }
  CHECK(s->find("0.sntpco") == nullptr);
  CHECK(s->find("4") == nullptr);
  CHECK(!s->find("acme")->terminal);  // ntp-only vendor: bare name has children only
  CHECK(s->serial() == 7);
  CHECK(s->server_count() == 23);
}

TEST_CASE("Quarters: round robin over servers sorted by id, per family, only from 8 up") {
  SourceData src = fixture();
  std::reverse(src.servers.begin(), src.servers.end());  // input order must not matter
  auto s = Snapshot::build(src, 1);
  const Node* n = s->find("1.de");
  REQUIRE(n);
  CHECK(ids(*s, s->pool(n->v4)) == std::set<int64_t>{101, 105, 109});
  CHECK(ids(*s, s->pool(s->find("0.de")->v6)) == std::set<int64_t>{200, 204, 208});
  // gb has 2 servers: numbered labels share the bare pool.
  CHECK(s->find("2.gb")->v4 == s->find("gb")->v4);
  CHECK(s->find("uk")->v4 == s->find("gb")->v4);
  // Vendor zones draw from the global pools.
  CHECK(s->find("0.acme")->v4 == s->find("0")->v4);
  CHECK(ids(*s, s->pool(s->find("")->v4)).size() == 14);
}

TEST_CASE("Servers with netspeed 0 and unknown zones are left out") {
  SourceData src = fixture();
  src.servers.push_back(server(999, "192.0.2.250", 0, {1}));
  src.servers.push_back(server(998, "192.0.2.251", 1000, {4242}));
  auto s = Snapshot::build(src, 1);
  CHECK(ids(*s, s->pool(s->find("")->v4)).count(999) == 0);
  CHECK(s->skipped() == 1);
}

TEST_CASE("On-disk copy: round trip, and truncated or edited files are refused") {
  const SourceData src = fixture();
  const std::string text = format_source(src, 99);
  uint32_t serial = 0;
  const SourceData back = parse_source(text, &serial);
  CHECK(serial == 99);
  CHECK(format_source(back, 99) == text);
  CHECK_THROWS(parse_source(text.substr(0, text.size() - 1), nullptr));
  const size_t cut = text.rfind("server ");
  CHECK_THROWS(parse_source(text.substr(0, cut) + text.substr(text.find("end ")), nullptr));
  CHECK_THROWS(parse_source("garbage\n", nullptr));
  CHECK_THROWS(parse_source("", nullptr));
  std::string bad = text;
  bad.replace(bad.find("192.0.2.10"), 10, "192.0.2.x0");
  CHECK_THROWS(parse_source(bad, nullptr));
  // A zone kind or client type this server does not know is refused, not guessed.
  const size_t de = text.find(" de country ");
  REQUIRE(de != std::string::npos);
  std::string region = text;
  region.replace(de, 12, " de region ");
  CHECK_THROWS_WITH(parse_source(region, nullptr), Catch::Contains("bad zone kind"));
  std::string client = text;
  client.replace(client.find(" both "), 6, " all ");
  CHECK_THROWS_WITH(parse_source(client, nullptr), Catch::Contains("bad client type"));

  char tmpl[] = "/tmp/tpdns-snap-XXXXXX";
  const int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  save_source(src, 5, tmpl);
  CHECK(format_source(load_source(tmpl, &serial), 5) == format_source(src, 5));
  CHECK(serial == 5);
  std::remove(tmpl);
  CHECK_THROWS(load_source("/nonexistent/snapshot", nullptr));
}

TEST_CASE("10,000 servers in 300 zones: every server, zone and name") {  // speed: bench/dns
  SourceData src;
  src.zones.push_back(zone_row(1, "@", ZoneKind::Global, std::nullopt, ClientType::Both));
  for (int z = 0; z < 299; ++z) {
    src.zones.push_back(zone_row(z + 2, "z" + std::to_string(z), ZoneKind::Country, std::nullopt, ClientType::Both));
  }
  for (int i = 0; i < 10000; ++i) {
    ServerRow s;
    s.id = i + 1;
    s.v6 = i % 4 == 0;
    s.addr[0] = s.v6 ? 0x20 : 10;
    s.addr[2] = static_cast<uint8_t>(i >> 8);
    s.addr[3] = static_cast<uint8_t>(i);
    s.netspeed = 1500;
    s.zones = {1, 2 + i % 299};
    src.servers.push_back(s);
  }
  auto s = Snapshot::build(src, 1);
  CHECK(s->server_count() == 10000);
  CHECK(s->zones().size() == 300);
  CHECK(s->node_count() == 1500);
}
