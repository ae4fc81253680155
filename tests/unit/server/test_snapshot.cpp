#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <vector>

#include "dns_test_util.hpp"
#include "server/snapshot.hpp"
#include "tests/support/seed.hpp"

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

TEST_CASE("Quarters: balanced by netspeed, per family, only from 8 up") {
  SourceData src = fixture();
  std::reverse(src.servers.begin(), src.servers.end());  // input order must not matter
  auto s = Snapshot::build(src, 1);
  const Node* n = s->find("1.de");
  REQUIRE(n);
  // de IPv4: 1000..12000 kbit/s on ids 100..111, largest first into the lightest quarter:
  // 21000 / 20000 / 19000 / 18000.
  CHECK(ids(*s, s->pool(s->find("0.de")->v4)) == std::set<int64_t>{111, 104, 103});
  CHECK(ids(*s, s->pool(n->v4)) == std::set<int64_t>{110, 105, 102});
  CHECK(s->pool(n->v4).total() == 20000);
  // de IPv6: nine equal weights go round by id.
  CHECK(ids(*s, s->pool(s->find("0.de")->v6)) == std::set<int64_t>{200, 204, 208});
  // gb has 2 servers: numbered labels share the bare pool.
  CHECK(s->find("2.gb")->v4 == s->find("gb")->v4);
  CHECK(s->find("uk")->v4 == s->find("gb")->v4);
  // Vendor zones draw from the global pools.
  CHECK(s->find("0.acme")->v4 == s->find("0")->v4);
  CHECK(ids(*s, s->pool(s->find("")->v4)).size() == 14);
}

namespace {
// One zone "se" (id 3 under '@' 1) with these IPv4 netspeeds on ids 1, 2, ...
SourceData one_zone(const std::vector<uint32_t>& netspeeds) {
  SourceData src;
  src.zones = {zone_row(1, "@", ZoneKind::Global, std::nullopt, ClientType::Both),
               zone_row(3, "se", ZoneKind::Country, std::nullopt, ClientType::Both)};
  for (size_t i = 0; i < netspeeds.size(); ++i) {
    src.servers.push_back(server(static_cast<int64_t>(i + 1),
                                 "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
                                 netspeeds[i], {1, 3}));
  }
  return src;
}

struct Quarter {
  std::set<int64_t> ids;
  uint64_t total = 0;
  uint64_t smallest = 0;
};

// The four numbered quarters of "se" (IPv4).
std::array<Quarter, 4> quarters(const Snapshot& s) {
  std::array<Quarter, 4> out;
  for (int q = 0; q < 4; ++q) {
    const Node* n = s.find(std::to_string(q) + ".se");
    REQUIRE(n);
    const Pool& p = s.pool(n->v4);
    out[q].ids = ids(s, p);
    out[q].total = p.total();
    out[q].smallest = ~uint64_t{0};
    for (size_t i = 0; i < p.size(); ++i) out[q].smallest = std::min(out[q].smallest, p.weight(i));
  }
  return out;
}

// Disjoint, together every server of the zone, and each quarter above the lightest by at most
// its own smallest member (the bound of largest-first list scheduling).
void check_balanced(const Snapshot& s, const std::array<Quarter, 4>& q) {
  const Pool& bare = s.pool(s.find("se")->v4);
  std::set<int64_t> all;
  size_t sum = 0;
  uint64_t lightest = q[0].total;
  for (const auto& x : q) {
    sum += x.ids.size();
    all.insert(x.ids.begin(), x.ids.end());
    lightest = std::min(lightest, x.total);
  }
  CHECK(sum == all.size());  // disjoint
  CHECK(all == ids(s, bare));
  for (size_t i = 0; i < 4; ++i) {
    INFO("quarter " << i << " total " << q[i].total << " lightest " << lightest
                    << " smallest member " << q[i].smallest);
    CHECK(q[i].total - lightest <= q[i].smallest);
  }
}
}  // namespace

TEST_CASE("issue 13: numbered quarters have equal netspeed totals, not an id split") {
  // The issue's 11 servers: split by id the quarters held 61,000 / 3,250 / 5,250 / 4,500.
  auto s = Snapshot::build(one_zone({50000, 1500, 3000, 1500, 10000, 1500, 1500, 3000, 1000, 250, 750}), 1);
  const auto q = quarters(*s);
  std::printf("quarter totals of the 11-server zone: %llu / %llu / %llu / %llu\n",
              static_cast<unsigned long long>(q[0].total), static_cast<unsigned long long>(q[1].total),
              static_cast<unsigned long long>(q[2].total), static_cast<unsigned long long>(q[3].total));
  check_balanced(*s, q);
  // 50,000 cannot be split: it stands alone, and the other three share 24,000 evenly.
  CHECK(q[0].ids == std::set<int64_t>{1});
  CHECK(q[1].total == 10000);
  CHECK(q[2].total == 7000);
  CHECK(q[3].total == 7000);
}

TEST_CASE("Quarters: random zones are balanced, disjoint and independent of row order") {
  static constexpr uint32_t kSpeeds[] = {512, 1500, 3000, 6000, 12000, 25000, 50000, 100000,
                                         250000, 500000, 1000000, 3000000};
  const uint32_t seed = timepool::test::random_seed();
  std::printf("quarter split, random zones: %s\n", timepool::test::seed_note(seed).c_str());
  INFO(timepool::test::seed_note(seed));
  std::mt19937 rng(seed);
  for (int round = 0; round < 300; ++round) {
    INFO("round " << round);
    const size_t n = Snapshot::kSplitMin + rng() % 120;
    std::vector<uint32_t> w(n);
    for (auto& x : w) x = kSpeeds[rng() % (round % 2 ? 12 : 6)];  // odd rounds: huge servers too
    SourceData src = one_zone(w);
    auto a = Snapshot::build(src, 1);
    const auto qa = quarters(*a);
    check_balanced(*a, qa);
    std::shuffle(src.servers.begin(), src.servers.end(), rng);
    const auto qb = quarters(*Snapshot::build(src, 1));
    for (int q = 0; q < 4; ++q) CHECK(qa[q].ids == qb[q].ids);
  }
}

TEST_CASE("Quarters: edge cases (below kSplitMin, exactly kSplitMin, one huge server)") {
  // 7 servers: no quarters, every numbered label answers from the bare pool.
  auto seven = Snapshot::build(one_zone({512, 1500, 3000, 6000, 12000, 25000, 50000}), 1);
  for (int q = 0; q < 4; ++q) CHECK(seven->find(std::to_string(q) + ".se")->v4 == seven->find("se")->v4);
  // 8 equal servers: two in each quarter.
  auto eight = Snapshot::build(one_zone(std::vector<uint32_t>(8, 1500)), 1);
  for (const auto& x : quarters(*eight)) CHECK(x.ids.size() == 2);
  check_balanced(*eight, quarters(*eight));
  // One huge server among ten small ones: alone in its quarter, the rest spread 4 / 3 / 3.
  std::vector<uint32_t> w(11, 1500);
  w[5] = 3000000;
  auto huge = Snapshot::build(one_zone(w), 1);
  const auto q = quarters(*huge);
  check_balanced(*huge, q);
  CHECK(q[0].ids == std::set<int64_t>{6});
  CHECK(q[1].total == 6000);
  CHECK(q[2].total == 4500);
  CHECK(q[3].total == 4500);
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

TEST_CASE("On-disk copy: the balancer's mixtures come back bit for bit") {
  SourceData src = fixture();
  src.mixtures = {MixtureRow{false, 3, 2, 0.1, 0.2, 0.7},
                  MixtureRow{true, 3, 2, 1.0 / 3.0, 0.0, 2.0 / 3.0},
                  MixtureRow{false, 0, 0, 0.0, 0.0, 1.0},
                  MixtureRow{false, 0, 2, 0.0, 0.30000000000000004, 0.7}};
  const std::string text = format_source(src, 7);
  CHECK(text.find("\nend " + std::to_string(src.zones.size()) + " " +
                  std::to_string(src.servers.size()) + " 4\n") != std::string::npos);
  const SourceData back = parse_source(text, nullptr);
  REQUIRE(back.mixtures.size() == src.mixtures.size());
  for (size_t i = 0; i < src.mixtures.size(); ++i) {
    const MixtureRow& a = src.mixtures[i];
    const MixtureRow& b = back.mixtures[i];
    CHECK(a.v6 == b.v6);
    CHECK(a.country == b.country);
    CHECK(a.continent == b.continent);
    CHECK(a.own == b.own);  // exactly: %.17g round-trips a double
    CHECK(a.near == b.near);
    CHECK(a.global == b.global);
  }
  CHECK(format_source(back, 7) == text);
  // A line lost (or a count edited) is refused; a copy without mixtures ends with two counts.
  const size_t first = text.find("mixture ");
  const std::string lost = text.substr(0, first) + text.substr(text.find('\n', first) + 1);
  CHECK_THROWS_WITH(parse_source(lost, nullptr), Catch::Contains("record count"));
  for (const char* bad : {"mixture 5 3 2 0 0 1\n", "mixture 4 3 2 -0.5 0 1\n",
                          "mixture 4 3 2 nan 0 1\n", "mixture 4 3 2 0 0 inf\n",
                          "mixture 4 3 2 0 0\n"}) {
    std::string t = text;
    t.replace(first, t.find('\n', first) + 1 - first, bad);
    INFO(bad);
    CHECK_THROWS(parse_source(t, nullptr));
  }
  src.mixtures.clear();
  const std::string plain = format_source(src, 7);
  CHECK(plain.find("mixture") == std::string::npos);
  CHECK(parse_source(plain, nullptr).mixtures.empty());
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

namespace {

// List scheduling as the rule states it (server/snapshot.hpp): every member by weight,
// largest first, ties by id, into the lightest quarter (fewer members, then the lower
// number, on equal totals). split_quarters must give exactly this.
std::vector<uint8_t> plain_quarters(const std::vector<uint64_t>& w, const std::vector<int64_t>& ids) {
  std::vector<size_t> order(w.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return w[a] != w[b] ? w[a] > w[b] : ids[a] < ids[b]; });
  std::vector<uint8_t> out(w.size());
  std::array<uint64_t, 4> total{};
  std::array<size_t, 4> count{};
  for (size_t i : order) {
    size_t q = 0;
    for (size_t c = 1; c < 4; ++c) {
      if (total[c] < total[q] || (total[c] == total[q] && count[c] < count[q])) q = c;
    }
    out[i] = static_cast<uint8_t>(q);
    total[q] += w[i];
    ++count[q];
  }
  return out;
}

}  // namespace

TEST_CASE("split_quarters is list scheduling exactly: ids in order or not, few or many weights") {
  static constexpr uint64_t kSpeeds[] = {512, 1500, 3000, 6000, 12000, 25000, 50000, 100000,
                                         250000, 500000, 1000000, 1500000, 2000000, 3000000};
  const uint32_t seed = timepool::test::random_seed();
  std::printf("split_quarters against the plain rule: %s\n", timepool::test::seed_note(seed).c_str());
  INFO(timepool::test::seed_note(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 400; ++round) {
    INFO("round " << round);
    const size_t n = rng() % 3000;
    std::vector<uint64_t> w(n);
    std::vector<int64_t> ids(n);
    int64_t id = static_cast<int64_t>(rng() % 100);
    for (size_t i = 0; i < n; ++i) {
      // Rounds by 4: netspeeds from the list; any weights (more distinct values than the
      // bucket pass takes); two weights only; the list again with ids shuffled.
      switch (round % 4) {
        case 1: w[i] = 1 + rng() % 100000; break;
        case 2: w[i] = rng() % 2 ? 1500 : 3000; break;
        default: w[i] = kSpeeds[rng() % 14]; break;
      }
      id += 1 + static_cast<int64_t>(rng() % 5);
      ids[i] = id;
    }
    if (round % 4 == 3) std::shuffle(ids.begin(), ids.end(), rng);
    REQUIRE(split_quarters(w, ids) == plain_quarters(w, ids));
  }
  // Exactly the bucket limit of distinct weights (32), and one more.
  for (size_t distinct : {size_t{32}, size_t{33}}) {
    std::vector<uint64_t> w(500);
    std::vector<int64_t> ids(500);
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] = 100 + (i * 7) % distinct;
      ids[i] = static_cast<int64_t>(i);
    }
    CHECK(split_quarters(w, ids) == plain_quarters(w, ids));
  }
}

TEST_CASE("Snapshot build: row order, repeated zone ids and sparse zone ids change nothing") {
  // Zone ids far apart (the build's zone table falls back from a flat array to a hash map)
  // against the same zones with small ids: the same names, pools and members.
  auto renumber = [](SourceData src, int64_t factor) {
    for (auto& z : src.zones) {
      z.id *= factor;
      if (z.alias_of) *z.alias_of *= factor;
    }
    for (auto& s : src.servers) {
      for (auto& z : s.zones) z *= factor;
    }
    return src;
  };
  const SourceData base = fixture();
  SourceData shuffled = renumber(base, 1000003);
  std::mt19937 rng(7);
  std::shuffle(shuffled.servers.begin(), shuffled.servers.end(), rng);
  shuffled.servers[0].zones.push_back(shuffled.servers[0].zones[0]);  // a repeat counts once
  const auto a = Snapshot::build(base, 1);
  const auto b = Snapshot::build(shuffled, 1);
  REQUIRE(a->names() == b->names());
  REQUIRE(a->server_count() == b->server_count());
  for (const auto& name : a->names()) {
    INFO(name);
    const Node* x = a->find(name);
    const Node* y = b->find(name);
    REQUIRE((x->v4 == Node::kNoPool) == (y->v4 == Node::kNoPool));
    REQUIRE((x->v6 == Node::kNoPool) == (y->v6 == Node::kNoPool));
    if (x->v4 != Node::kNoPool) CHECK(ids(*a, a->pool(x->v4)) == ids(*b, b->pool(y->v4)));
    if (x->v6 != Node::kNoPool) CHECK(ids(*a, a->pool(x->v6)) == ids(*b, b->pool(y->v6)));
  }
}

TEST_CASE("The binary inet of a host address reads as its text form, and nothing else reads") {
  ServerRow row;
  const std::vector<uint8_t> v4 = {2, 32, 0, 4, 192, 0, 2, 7};
  REQUIRE(parse_inet_binary(v4, row));
  CHECK(!row.v6);
  CHECK(format_address(row) == "192.0.2.7");
  std::vector<uint8_t> v6 = {3, 128, 0, 16, 0x20, 0x01, 0x0d, 0xb8};
  v6.resize(20, 0);
  v6[19] = 5;
  REQUIRE(parse_inet_binary(v6, row));
  CHECK(row.v6);
  CHECK(format_address(row) == "2001:db8::5");
  // After an IPv6 row, an IPv4 one leaves no bytes of it behind.
  REQUIRE(parse_inet_binary(v4, row));
  CHECK(std::all_of(row.addr.begin() + 4, row.addr.end(), [](uint8_t b) { return b == 0; }));
  const std::vector<std::vector<uint8_t>> bad = {
      {},
      {2, 32, 0},
      {2, 32, 0, 4, 192, 0, 2},         // short
      {2, 32, 0, 4, 192, 0, 2, 7, 1},   // long
      {2, 24, 0, 4, 192, 0, 2, 0},      // a network
      {2, 32, 1, 4, 192, 0, 2, 7},      // cidr
      {4, 32, 0, 4, 192, 0, 2, 7},      // no such family
      {3, 128, 0, 4, 192, 0, 2, 7},     // IPv6 with 4 bytes
      {2, 128, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},  // IPv4 with 16
  };
  for (const auto& b : bad) {
    INFO(b.size() << " bytes");
    CHECK_FALSE(parse_inet_binary(b, row));
  }
}
