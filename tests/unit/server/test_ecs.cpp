#include "server/ecs.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "tests/support/seed.hpp"

using namespace timepool::ecs;
using Bytes = std::vector<uint8_t>;

namespace {
Parsed p(const Bytes& b) { return parse(std::span<const uint8_t>(b.data(), b.size())); }
Error err(const Bytes& b) { return p(b).error; }
}  // namespace

TEST_CASE("ECS: well-formed IPv4 and IPv6 subnets") {
  auto r = p({0, 1, 24, 0, 8, 8, 8});
  REQUIRE(r.error == Error::None);
  CHECK(r.subnet.family == kFamilyV4);
  CHECK(r.subnet.source_prefix == 24);
  CHECK(r.subnet.address.to_string() == "8.8.8.0");
  CHECK(usable(r.subnet));

  r = p({0, 1, 32, 0, 8, 8, 4, 4});
  REQUIRE(r.error == Error::None);
  CHECK(r.subnet.address.to_string() == "8.8.4.4");

  r = p({0, 2, 56, 0, 0x2a, 0x00, 0x14, 0x50, 0x40, 0x01, 0x08});
  REQUIRE(r.error == Error::None);
  CHECK(r.subnet.address.to_string() == "2a00:1450:4001:800::");
  CHECK(usable(r.subnet));

  Bytes full{0, 2, 128, 0};
  for (int i = 0; i < 16; ++i) full.push_back(static_cast<uint8_t>(i == 0 ? 0x20 : i));
  CHECK(err(full) == Error::None);

  r = p({0, 1, 23, 0, 8, 8, 2});  // /23: the last byte keeps 7 bits, 0x02 is inside
  CHECK(r.error == Error::None);
}

TEST_CASE("ECS: source prefix 0 parses but locates nobody") {
  auto r = p({0, 1, 0, 0});
  REQUIRE(r.error == Error::None);
  CHECK_FALSE(usable(r.subnet));
  CHECK(p({0, 2, 0, 0}).error == Error::None);
}

TEST_CASE("ECS: malformed options are told apart") {
  CHECK(err({}) == Error::Truncated);
  CHECK(err({0}) == Error::Truncated);
  CHECK(err({0, 1, 24}) == Error::Truncated);
  CHECK(err({0, 0, 24, 0, 8, 8, 8}) == Error::BadFamily);   // family 0
  CHECK(err({0, 3, 24, 0, 8, 8, 8}) == Error::BadFamily);   // family 3
  CHECK(err({1, 1, 24, 0, 8, 8, 8}) == Error::BadFamily);   // 257
  CHECK(err({0, 1, 33, 0, 8, 8, 8, 8, 0}) == Error::PrefixTooLong);
  CHECK(err({0, 2, 129, 0}) == Error::PrefixTooLong);
  CHECK(err({0, 1, 255, 0}) == Error::PrefixTooLong);
  CHECK(err({0, 1, 24, 24, 8, 8, 8}) == Error::ScopeNotZero);
  CHECK(err({0, 1, 24, 0, 8, 8, 8, 0}) == Error::WrongAddressLength);  // one byte too many
  CHECK(err({0, 1, 24, 0, 8, 8}) == Error::WrongAddressLength);        // one too few
  CHECK(err({0, 1, 0, 0, 0}) == Error::WrongAddressLength);
  CHECK(err({0, 1, 32, 0, 8, 8, 8}) == Error::WrongAddressLength);
  CHECK(err({0, 2, 56, 0, 0x2a, 0, 0x14, 0x50, 0x40, 0x01}) == Error::WrongAddressLength);
  CHECK(err({0, 1, 23, 0, 8, 8, 3}) == Error::BitsBeyondPrefix);  // bit 24 set in a /23
  CHECK(err({0, 1, 1, 0, 0xc0}) == Error::BitsBeyondPrefix);
  CHECK(err({0, 2, 57, 0, 0x2a, 0, 0x14, 0x50, 0x40, 0x01, 0x08, 0x40}) == Error::BitsBeyondPrefix);
  CHECK(error_name(Error::BitsBeyondPrefix) == "address bits set beyond the source prefix");
}

TEST_CASE("ECS: private, loopback and other special networks are not used") {
  CHECK_FALSE(usable(p({0, 1, 8, 0, 10}).subnet));
  CHECK_FALSE(usable(p({0, 1, 8, 0, 127}).subnet));
  CHECK_FALSE(usable(p({0, 1, 24, 0, 192, 168, 1}).subnet));
  CHECK_FALSE(usable(p({0, 1, 24, 0, 192, 0, 2}).subnet));       // documentation
  CHECK_FALSE(usable(p({0, 1, 16, 0, 169, 254}).subnet));        // link-local
  CHECK_FALSE(usable(p({0, 1, 10, 0, 100, 64}).subnet));         // CGNAT
  CHECK_FALSE(usable(p({0, 2, 8, 0, 0xfd}).subnet));             // unique local
  CHECK_FALSE(usable(p({0, 2, 32, 0, 0x20, 0x01, 0x0d, 0xb8}).subnet));  // documentation
  CHECK_FALSE(usable(p({0, 2, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}).subnet));
  CHECK(usable(p({0, 1, 8, 0, 11}).subnet));
}

TEST_CASE("ECS: the echo repeats family, source and address with our scope") {
  Bytes q{0, 1, 22, 0, 81, 2, 188};
  auto r = p(q);
  REQUIRE(r.error == Error::None);
  auto e = make_echo(r.subnet, 18);
  CHECK(Bytes(e.bytes().begin(), e.bytes().end()) == Bytes{0, 1, 22, 18, 81, 2, 188});
  e = make_echo(r.subnet, 0);
  CHECK(Bytes(e.bytes().begin(), e.bytes().end()) == q);
  e = make_echo(r.subnet, 200);  // clamped to the family's width
  CHECK(e.bytes()[3] == 32);
  e = make_echo(p({0, 2, 0, 0}).subnet, 0);
  CHECK(Bytes(e.bytes().begin(), e.bytes().end()) == Bytes{0, 2, 0, 0});
}

TEST_CASE("ECS: random option data never breaks parse, and valid data echoes back unchanged") {
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  std::mt19937 rng(seed);
  size_t valid = 0;
  for (int i = 0; i < 200000; ++i) {
    Bytes b(rng() % 22);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    if (b.size() >= 4 && (rng() & 1)) {  // bias towards plausible headers
      b[0] = 0;
      b[1] = static_cast<uint8_t>(1 + rng() % 2);
      b[3] = 0;
    }
    auto r = p(b);
    if (r.error != Error::None) continue;
    ++valid;
    auto e = make_echo(r.subnet, 0);
    REQUIRE(Bytes(e.bytes().begin(), e.bytes().end()) == b);
  }
  CHECK(valid > 100);
}

TEST_CASE("locate: ECS when usable, else the resolver, with the echo's scope from geo") {
  // 81.2.0.0/16 is gb, 2a00:1450::/32 is de, 5.0.0.0/8 fr; nothing else is known.
  auto geo = timepool::geo::RangeGeoDb::parse(
      "1359085568,1359151103,GB\n83886080,100663295,FR\n",
      "2a00:1450::,2a00:1450:ffff:ffff:ffff:ffff:ffff:ffff,DE\n");
  auto a = [](const char* t) { return *timepool::address::parse(t); };
  auto span = [](const Bytes& b) { return std::optional<std::span<const uint8_t>>(b); };

  Bytes gb{0, 1, 24, 0, 81, 2, 188};
  auto loc = locate(geo.get(), a("5.5.5.5"), span(gb));
  CHECK(loc.from_ecs);
  CHECK(loc.address.to_string() == "81.2.188.0");
  CHECK(loc.country->str() == "gb");
  REQUIRE(loc.echo);
  CHECK(Bytes(loc.echo->bytes().begin(), loc.echo->bytes().end()) == Bytes{0, 1, 24, 16, 81, 2, 188});
  CHECK(debug_text(loc, "gb", "country gb has 5 servers (>= 3)") ==
        "address=81.2.188.0 source=ecs country=gb zone=gb reason=country gb has 5 servers (>= 3)");

  Bytes de{0, 2, 56, 0, 0x2a, 0x00, 0x14, 0x50, 0x40, 0x01, 0x08};
  loc = locate(geo.get(), a("5.5.5.5"), span(de));
  CHECK(loc.country->str() == "de");
  CHECK(loc.echo->bytes()[3] == 32);

  // Private ECS: the resolver's address decides, and the echo says scope 0.
  Bytes priv{0, 1, 24, 0, 192, 168, 1};
  loc = locate(geo.get(), a("5.5.5.5"), span(priv));
  CHECK_FALSE(loc.from_ecs);
  CHECK(loc.country->str() == "fr");
  CHECK(loc.echo->bytes()[3] == 0);

  // Malformed ECS: no echo, the error reported, the resolver used.
  Bytes bad{0, 1, 24, 0, 81, 2};
  loc = locate(geo.get(), a("5.5.5.5"), span(bad));
  CHECK(loc.ecs_error == Error::WrongAddressLength);
  CHECK_FALSE(loc.echo);
  CHECK(loc.country->str() == "fr");
  CHECK(debug_text(loc, "@", "x").find("ecs-error=wrong address length") != std::string::npos);

  // No ECS; a loopback resolver is never looked up; no geo database at all.
  loc = locate(geo.get(), a("81.2.3.4"), std::nullopt);
  CHECK(loc.country->str() == "gb");
  CHECK_FALSE(loc.echo);
  CHECK_FALSE(locate(geo.get(), a("127.0.0.1"), std::nullopt).country);
  loc = locate(nullptr, a("81.2.3.4"), span(gb));
  CHECK_FALSE(loc.country);
  CHECK(loc.echo->bytes()[3] == 0);
}
