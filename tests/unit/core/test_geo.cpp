#include "core/geo.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/seed.hpp"

using timepool::address::Address;
using timepool::address::parse;
using namespace timepool::geo;

namespace {

Address a(const char* text) {
  auto r = parse(text);
  REQUIRE(r);
  return *r;
}

std::string cc(const std::optional<CountryCode>& c) { return c ? std::string(c->str()) : "-"; }

struct RawLine {
  std::string low, high, cc;
};

// Every `step`-th data line of a tor geoip file, read independently of the loader.
std::vector<RawLine> sample_lines(const char* path, size_t step) {
  std::ifstream in(path);
  std::vector<RawLine> out;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (n++ % step != 0) continue;
    auto c1 = line.find(','), c2 = line.rfind(',');
    out.push_back({line.substr(0, c1), line.substr(c1 + 1, c2 - c1 - 1), line.substr(c2 + 1)});
  }
  return out;
}

bool have_tor_files() {
  return access(RangeGeoDb::kDefaultV4Path, R_OK) == 0 &&
         access(RangeGeoDb::kDefaultV6Path, R_OK) == 0;
}

}  // namespace

TEST_CASE("CountryCode accepts two letters in any case, lower-cases them") {
  CHECK(CountryCode::parse("DE")->str() == "de");
  CHECK(CountryCode::parse("gB")->str() == "gb");
  CHECK_FALSE(CountryCode::parse("??"));
  CHECK_FALSE(CountryCode::parse("D"));
  CHECK_FALSE(CountryCode::parse("DEU"));
  CHECK_FALSE(CountryCode::parse("d1"));
  CHECK_FALSE(CountryCode::parse(""));
}

TEST_CASE("RangeGeoDb parses ranges, skips unknown and bad lines, merges neighbours") {
  // 10.0.0.0 = 167772160
  const std::string v4 =
      "# comment\n"
      "\n"
      "167772160,167772415,DE\n"        // 10.0.0.0 - 10.0.0.255
      "167772416,167772671,de\r\n"      // 10.0.1.0 - 10.0.1.255: same country, adjacent: merged
      "167772672,167772927,??\n"        // 10.0.2.0/24 unknown
      "167773184,167773439,FR\n"        // 10.0.4.0/24 (10.0.3.0/24 is a gap)
      "167773200,167773300,IT\n"        // overlaps FR: bad
      "167773440,167773439,NL\n"        // low > high: bad
      "1,2\n"                           // two fields: bad
      "1,2,3,4\n"                       // four fields: bad
      "x,5,US\n"                        // not a number: bad
      "4294967296,4294967297,US\n"      // > 2^32-1: bad
      "167773696,167773951,U1\n"        // bad country code
      "4294967040,4294967295,ZZ\n";     // 255.255.255.0/24, top of the space
  const std::string v6 =
      "2001:db8::,2001:db8:0:ffff:ffff:ffff:ffff:ffff,JP\n"
      "2001:db8:1::,2001:db8:1:ffff:ffff:ffff:ffff:ffff,??\n"
      "2001:db8:2::,2001:db8:2:0:0:0:0:ff,BR\n"
      "1.2.3.4,2001:db8::,US\n"  // IPv4 in the IPv6 file: bad
      "2001:db8:3::,,US\n";      // empty high: bad
  LoadReport rep;
  auto db = RangeGeoDb::parse(v4, v6, &rep);
  CHECK(rep.v4_ranges == 3);
  CHECK(rep.v6_ranges == 2);
  CHECK(rep.merged == 1);
  CHECK(rep.unknown_skipped == 2);
  CHECK(rep.bad_lines == 9);
  REQUIRE(rep.bad_samples.size() == LoadReport::kMaxBadSamples);
  CHECK(rep.bad_samples[0].find("geoip:") == 0);
  CHECK(rep.memory_bytes == db->memory_bytes());
  CHECK(rep.summary().find("3 IPv4 and 2 IPv6 ranges") == 0);

  CHECK(cc(db->country(a("10.0.0.0"))) == "de");
  CHECK(cc(db->country(a("10.0.1.255"))) == "de");
  CHECK(cc(db->country(a("10.0.2.1"))) == "-");  // "??"
  CHECK(cc(db->country(a("10.0.3.1"))) == "-");  // gap
  CHECK(cc(db->country(a("10.0.4.0"))) == "fr");
  CHECK(cc(db->country(a("10.0.4.255"))) == "fr");
  CHECK(cc(db->country(a("10.0.5.0"))) == "-");
  CHECK(cc(db->country(a("0.0.0.0"))) == "-");
  CHECK(cc(db->country(a("255.255.255.255"))) == "zz");
  CHECK(cc(db->country(a("::ffff:10.0.4.7"))) == "fr");
  CHECK(cc(db->country(a("2001:db8::1"))) == "jp");
  CHECK(cc(db->country(a("2001:db8:0:ffff:ffff:ffff:ffff:ffff"))) == "jp");
  CHECK(cc(db->country(a("2001:db8:1::5"))) == "-");
  CHECK(cc(db->country(a("2001:db8:2::ff"))) == "br");
  CHECK(cc(db->country(a("2001:db8:2::100"))) == "-");
  CHECK(cc(db->country(a("::"))) == "-");
  CHECK(cc(db->country(a("ffff::1"))) == "-");

  SECTION("prefix_len is the largest block with one answer") {
    CHECK(db->lookup(a("10.0.0.9")).prefix_len == 23);   // merged 10.0.0.0/23
    CHECK(db->lookup(a("10.0.4.9")).prefix_len == 24);   // 10.0.4.0/24
    CHECK(db->lookup(a("10.0.3.9")).prefix_len == 23);   // gap 10.0.2.0-10.0.3.255
    CHECK(db->lookup(a("255.255.255.1")).prefix_len == 24);
    CHECK(db->lookup(a("0.0.0.1")).prefix_len == 5);     // gap 0.0.0.0-9.255.255.255 -> 0/5
    CHECK(db->lookup(a("::ffff:10.0.4.9")).prefix_len == 24 + 96);
    CHECK(db->lookup(a("2001:db8::1")).prefix_len == 48);
    CHECK(db->lookup(a("2001:db8:2::1")).prefix_len == 120);
    CHECK(db->lookup(a("2001:db8:2::100")).prefix_len == 120);  // gap starts at ::100
  }
}

TEST_CASE("RangeGeoDb on empty input finds nothing and never crashes") {
  auto db = RangeGeoDb::parse("", "", nullptr);
  CHECK(db->v4_size() == 0);
  CHECK_FALSE(db->country(a("192.0.2.1")));
  CHECK(db->lookup(a("192.0.2.1")).prefix_len == 0);
  CHECK(db->lookup(a("2001:db8::1")).prefix_len == 0);
  CHECK_FALSE(db->country(a("2001:db8::1")));
  // Garbage of every kind.
  auto g = RangeGeoDb::parse(std::string("\0,\0,\0\n,,,\n,,\n", 13), "::,::,\n:::,1,DE\n");
  CHECK(g->v4_size() == 0);
  CHECK(g->v6_size() == 0);
}

TEST_CASE("RangeGeoDb::load throws for a missing file") {
  CHECK_THROWS_AS(RangeGeoDb::load("/nonexistent/geoip", ""), GeoError);
  CHECK_THROWS_AS(RangeGeoDb::load("", ""), GeoError);  // both empty: no ranges at all
}

TEST_CASE("RangeGeoDb loads Debian's tor-geoipdb and agrees with the files line by line") {
  // deploy/install-deps.sh installs tor-geoipdb; without it this test would check nothing.
  REQUIRE(have_tor_files());
  LoadReport rep;
  auto db = RangeGeoDb::load(RangeGeoDb::kDefaultV4Path, RangeGeoDb::kDefaultV6Path, &rep);
  WARN("tor-geoipdb: " << rep.summary());
  CHECK(rep.bad_lines == 0);
  CHECK(rep.v4_ranges > 100000);
  CHECK(rep.v6_ranges > 50000);
  CHECK(db->memory_bytes() < 32u * 1024 * 1024);

  // Ranges taken from the files themselves (independent of the loader): first, last and middle
  // address of every 97th line, and "??" lines must be unknown.
  size_t checked = 0;
  for (const auto& l : sample_lines(RangeGeoDb::kDefaultV4Path, 97)) {
    uint32_t lo = static_cast<uint32_t>(std::stoul(l.low));
    uint32_t hi = static_cast<uint32_t>(std::stoul(l.high));
    std::string want = l.cc == "??" ? "-" : std::string(CountryCode::parse(l.cc)->str());
    for (uint32_t x : {lo, hi, lo + (hi - lo) / 2}) {
      auto got = db->lookup(Address::v4(x));
      INFO(l.low << "," << l.high << "," << l.cc << " at " << Address::v4(x).to_string());
      CHECK(cc(got.country) == want);
      CHECK(got.prefix_len <= 32);
      ++checked;
    }
  }
  for (const auto& l : sample_lines(RangeGeoDb::kDefaultV6Path, 97)) {
    std::string want = l.cc == "??" ? "-" : std::string(CountryCode::parse(l.cc)->str());
    for (const auto& t : {l.low, l.high}) {
      INFO(l.low << "," << l.high << "," << l.cc);
      CHECK(cc(db->country(a(t.c_str()))) == want);
      ++checked;
    }
  }
  CHECK(checked > 10000);

  // A gap between two stored IPv4 ranges, and the IPv4-mapped form of a stored address.
  bool gap_found = false;
  for (size_t i = 0; i + 1 < db->v4_size() && !gap_found; ++i) {
    auto r = db->v4_range(i), n = db->v4_range(i + 1);
    if (n.low - r.high > 2) {
      gap_found = true;
      CHECK_FALSE(db->country(Address::v4(r.high + 1)));
      CHECK_FALSE(db->country(Address::v4(n.low - 1)));
      CHECK(db->country(Address::v4(r.high)) == r.country);
      auto mapped = a(("::ffff:" + Address::v4(r.high).to_string()).c_str());
      CHECK(db->country(mapped) == r.country);
    }
  }
  CHECK(gap_found);
  auto mid6 = db->v6_range(db->v6_size() / 2);
  CHECK(db->country(Address::v6(mid6.low)) == mid6.country);
  CHECK(db->country(Address::v6(mid6.high)) == mid6.country);
}

TEST_CASE("MmdbGeoDb reports a missing or corrupt file") {
  CHECK_THROWS_AS(MmdbGeoDb::open("/nonexistent/GeoLite2-Country.mmdb"), GeoError);
  CHECK_THROWS_AS(open_geo_db("/nonexistent/x.mmdb"), GeoError);

  char path[] = "/tmp/timepool-geo-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::string junk(4096, '\x5a');
  REQUIRE(write(fd, junk.data(), junk.size()) == static_cast<ssize_t>(junk.size()));
  close(fd);
  try {
    MmdbGeoDb::open(path);
    FAIL("a corrupt file was accepted");
  } catch (const GeoError& e) {
    CHECK(std::string(e.what()).find(path) != std::string::npos);
  }
  unlink(path);
}

namespace {

// The largest aligned block around key inside [lo, hi], by trying every size.
template <typename K>
int brute_prefix(K key, K lo, K hi, int bits) {
  for (int h = bits; h >= 0; --h) {
    K mask = h == bits ? static_cast<K>(~K{0}) : static_cast<K>((K{1} << h) - 1);
    K b = key & static_cast<K>(~mask);
    if (b >= lo && (b | mask) <= hi) return bits - h;
  }
  return -1;
}

}  // namespace

TEST_CASE("RangeGeoDb agrees with a linear scan on random ranges, country and prefix") {
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  std::mt19937_64 rng(seed);
  using U128 = RangeGeoDb::U128;
  struct R4 { uint32_t lo, hi; std::string cc; };
  struct R6 { U128 lo, hi; std::string cc; };
  std::vector<R4> r4;
  std::vector<R6> r6;
  std::string t4, t6;
  const char* codes[] = {"de", "fr", "jp", "br"};
  uint32_t x = static_cast<uint32_t>(rng() % 1000);
  U128 y = rng() % 1000;
  for (int i = 0; i < 3000; ++i) {
    uint32_t lo = x + static_cast<uint32_t>(rng() % 3) * static_cast<uint32_t>(rng() % 5000);
    uint32_t hi = lo + static_cast<uint32_t>(rng() % 70000);
    if (hi < lo || hi > 0xfff00000u) break;
    std::string cc = codes[i % 4];  // neighbours differ: no merging
    r4.push_back({lo, hi, cc});
    t4 += std::to_string(lo) + "," + std::to_string(hi) + "," + cc + "\n";
    x = hi + 1;
    // IPv6 ranges spread over the whole space: steps of up to 2^100.
    U128 lo6 = y + (static_cast<U128>(rng() % 3) << (rng() % 100));
    U128 hi6 = lo6 + (static_cast<U128>(rng() >> 8) << (rng() % 40));
    std::array<uint8_t, 16> bl{}, bh{};
    for (int k = 0; k < 16; ++k) {
      bl[static_cast<size_t>(15 - k)] = static_cast<uint8_t>(lo6 >> (8 * k));
      bh[static_cast<size_t>(15 - k)] = static_cast<uint8_t>(hi6 >> (8 * k));
    }
    r6.push_back({lo6, hi6, cc});
    t6 += Address::v6(bl).to_string() + "," + Address::v6(bh).to_string() + "," + cc + "\n";
    y = hi6 + 1;
  }
  LoadReport rep;
  auto db = RangeGeoDb::parse(t4, t6, &rep);
  INFO(rep.summary());
  REQUIRE(rep.bad_lines == 0);
  for (int i = 0; i < 20000; ++i) {
    // An address near a random range boundary, or anywhere.
    uint32_t k4;
    U128 k6;
    const auto& a4 = r4[rng() % r4.size()];
    const auto& a6 = r6[rng() % r6.size()];
    switch (rng() % 4) {
      case 0: k4 = a4.lo - static_cast<uint32_t>(rng() % 3); k6 = a6.lo - rng() % 3; break;
      case 1: k4 = a4.hi + static_cast<uint32_t>(rng() % 3); k6 = a6.hi + rng() % 3; break;
      case 2: k4 = a4.lo + static_cast<uint32_t>(rng() % (a4.hi - a4.lo + 1)); k6 = a6.lo + rng() % 1000; break;
      default: k4 = static_cast<uint32_t>(rng()); k6 = (static_cast<U128>(rng()) << 64) | rng(); break;
    }
    // Expected, by a linear scan: the containing range, else the gap around the key.
    std::string want4 = "-";
    uint32_t lo4 = 0, hi4 = 0xffffffffu;
    for (const auto& r : r4) {
      if (r.lo <= k4 && k4 <= r.hi) { want4 = r.cc; lo4 = r.lo; hi4 = r.hi; break; }
      if (r.hi < k4) lo4 = r.hi + 1;
      if (r.lo > k4) { hi4 = r.lo - 1; break; }
    }
    auto got4 = db->lookup(Address::v4(k4));
    INFO("v4 " << Address::v4(k4).to_string());
    REQUIRE(cc(got4.country) == want4);
    REQUIRE(got4.prefix_len == brute_prefix<uint32_t>(k4, lo4, hi4, 32));

    std::string want6 = "-";
    U128 lo6 = 0, hi6 = ~U128{0};
    for (const auto& r : r6) {
      if (r.lo <= k6 && k6 <= r.hi) { want6 = r.cc; lo6 = r.lo; hi6 = r.hi; break; }
      if (r.hi < k6) lo6 = r.hi + 1;
      if (r.lo > k6) { hi6 = r.lo - 1; break; }
    }
    std::array<uint8_t, 16> kb{};
    for (int k = 0; k < 16; ++k) kb[static_cast<size_t>(15 - k)] = static_cast<uint8_t>(k6 >> (8 * k));
    auto got6 = db->lookup(Address::v6(kb));
    INFO("v6 " << Address::v6(kb).to_string());
    if (kb[0] == 0 && kb[10] == 0xff && kb[11] == 0xff) continue;  // IPv4-mapped: the v4 table
    REQUIRE(cc(got6.country) == want6);
    REQUIRE(got6.prefix_len == brute_prefix<U128>(k6, lo6, hi6, 128));
  }
}

TEST_CASE("RangeGeoDb survives random text and counts what it cannot read") {
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  std::mt19937 rng(seed);
  const std::string alphabet = "0123456789,,,::abcdefABCDEF?.\n\n\r# \xff";
  for (int round = 0; round < 300; ++round) {
    std::string v4, v6;
    for (int i = 0; i < 200; ++i) {
      v4 += alphabet[rng() % alphabet.size()];
      v6 += alphabet[rng() % alphabet.size()];
    }
    LoadReport rep;
    auto db = RangeGeoDb::parse(v4, v6, &rep);
    CHECK(rep.v4_ranges == db->v4_size());
    CHECK(rep.bad_samples.size() <= LoadReport::kMaxBadSamples);
    (void)db->lookup(Address::v4(static_cast<uint32_t>(rng())));
    (void)db->lookup(a("2001:db8::1"));
  }
}
