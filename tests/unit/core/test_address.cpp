#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "core/address.hpp"
#include "tests/support/seed.hpp"

using namespace timepool::address;

namespace {

Kind kind_of(const std::string& text) {
  auto a = parse(text);
  INFO("address " << text);
  REQUIRE(a);
  return classify(*a);
}

}  // namespace

TEST_CASE("IPv4 parsing accepts dotted quads only", "[address]") {
  auto a = parse("192.0.2.1");
  REQUIRE(a);
  CHECK(a->is_v4());
  CHECK(a->v4_host_order() == 0xC0000201u);
  CHECK(a->to_string() == "192.0.2.1");
  CHECK(parse("0.0.0.0"));
  CHECK(parse("255.255.255.255"));

  for (const char* bad : {"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4",
                          "1.2.3.04", "1.2.3.4 ", " 1.2.3.4", "1..3.4", "1.2.3.", ".1.2.3",
                          "0x7f.0.0.1", "1.2.3.-4", "1.2.3.4/24", "1234.1.1.1", "1.2.3.a",
                          "127.1", "1.2.3.4\n", "1,2,3,4", "+1.2.3.4"}) {
    INFO("refused: '" << bad << "'");
    CHECK_FALSE(parse(bad));
  }
  // An embedded NUL is not a terminator.
  CHECK_FALSE(parse(std::string_view("1.2.3.4\0", 8)));
}

TEST_CASE("IPv6 parsing follows RFC 4291 section 2.2", "[address]") {
  struct Case {
    const char* in;
    const char* canonical;
  };
  for (auto c : {Case{"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
                 Case{"2001:db8::1", "2001:db8::1"},
                 Case{"::", "::"},
                 Case{"::1", "::1"},
                 Case{"1::", "1::"},
                 Case{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
                 Case{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
                 Case{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
                 Case{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
                 Case{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
                 Case{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
                 Case{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
                 Case{"::FFFF:c000:0201", "::ffff:192.0.2.1"},
                 Case{"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
                 Case{"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
                 Case{"0000:0000:0000:0000:0000:0000:0000:0001", "::1"}}) {
    INFO(c.in);
    auto a = parse(c.in);
    REQUIRE(a);
    CHECK(a->is_v6());
    CHECK(a->to_string() == c.canonical);
    // The canonical form parses back to the same address.
    auto back = parse(a->to_string());
    REQUIRE(back);
    CHECK(*back == *a);
  }
  for (const char* bad :
       {":", ":::", "1:::2", "1::2::3", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9", "1:2:3:4::5:6:7:8", "12345::", "g::1", "fe80::1%eth0", "[::1]",
        "::1/128", " ::1", "::1 ", "1.2.3.4::", "::1.2.3", "::1.2.3.4:5", "::256.1.1.1",
        "::01.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:1.2.3.4.5", "2001:db8::-1",
        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555"}) {
    INFO("refused: '" << bad << "'");
    CHECK_FALSE(parse(bad));
  }
}

TEST_CASE("Parsing and printing agree with inet_pton/inet_ntop on random addresses", "[address]") {
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  std::mt19937 rng(seed);
  for (int i = 0; i < 2000; ++i) {
    std::array<uint8_t, 16> b{};
    // Many zero groups so that "::" placement is exercised.
    for (int k = 0; k < 8; ++k) {
      if (rng() % 3 == 0) continue;
      b[2 * k] = static_cast<uint8_t>(rng() % 3 == 0 ? 0 : rng());
      b[2 * k + 1] = static_cast<uint8_t>(rng());
    }
    char buf[INET6_ADDRSTRLEN];
    REQUIRE(inet_ntop(AF_INET6, b.data(), buf, sizeof buf));
    auto a = parse(buf);
    INFO(buf);
    REQUIRE(a);
    CHECK(a->bytes() == b);
    auto text = a->to_string();
    std::array<uint8_t, 16> back{};
    REQUIRE(inet_pton(AF_INET6, text.c_str(), back.data()) == 1);
    CHECK(back == b);
  }
}

TEST_CASE("IPv4 special-purpose blocks", "[address]") {
  CHECK(kind_of("0.0.0.0") == Kind::Unspecified);
  CHECK(kind_of("0.1.2.3") == Kind::ThisNetwork);
  CHECK(kind_of("0.255.255.255") == Kind::ThisNetwork);
  CHECK(kind_of("10.0.0.0") == Kind::Private);
  CHECK(kind_of("10.255.255.255") == Kind::Private);
  CHECK(kind_of("11.0.0.0") == Kind::GlobalUnicast);
  CHECK(kind_of("9.255.255.255") == Kind::GlobalUnicast);
  CHECK(kind_of("100.63.255.255") == Kind::GlobalUnicast);
  CHECK(kind_of("100.64.0.0") == Kind::SharedCgnat);
  CHECK(kind_of("100.127.255.255") == Kind::SharedCgnat);
  CHECK(kind_of("100.128.0.0") == Kind::GlobalUnicast);
  CHECK(kind_of("127.0.0.1") == Kind::Loopback);
  CHECK(kind_of("127.255.255.254") == Kind::Loopback);
  CHECK(kind_of("169.254.1.1") == Kind::LinkLocal);
  CHECK(kind_of("169.253.255.255") == Kind::GlobalUnicast);
  CHECK(kind_of("172.15.255.255") == Kind::GlobalUnicast);
  CHECK(kind_of("172.16.0.0") == Kind::Private);
  CHECK(kind_of("172.31.255.255") == Kind::Private);
  CHECK(kind_of("172.32.0.0") == Kind::GlobalUnicast);
  CHECK(kind_of("192.0.0.0") == Kind::DsLite);
  CHECK(kind_of("192.0.0.7") == Kind::DsLite);
  CHECK(kind_of("192.0.0.8") == Kind::DummyAddress);
  CHECK(kind_of("192.0.0.9") == Kind::PcpAnycast);
  CHECK(kind_of("192.0.0.10") == Kind::TurnAnycast);
  CHECK(kind_of("192.0.0.11") == Kind::IetfProtocol);
  CHECK(kind_of("192.0.0.170") == Kind::Nat64Discovery);
  CHECK(kind_of("192.0.0.171") == Kind::Nat64Discovery);
  CHECK(kind_of("192.0.0.255") == Kind::IetfProtocol);
  CHECK(kind_of("192.0.1.0") == Kind::GlobalUnicast);
  CHECK(kind_of("192.0.2.0") == Kind::Documentation);
  CHECK(kind_of("192.0.2.255") == Kind::Documentation);
  CHECK(kind_of("192.31.196.1") == Kind::As112);
  CHECK(kind_of("192.52.193.1") == Kind::Amt);
  CHECK(kind_of("192.88.99.1") == Kind::SixToFourRelay);
  CHECK(kind_of("192.167.255.255") == Kind::GlobalUnicast);
  CHECK(kind_of("192.168.0.1") == Kind::Private);
  CHECK(kind_of("192.168.255.255") == Kind::Private);
  CHECK(kind_of("192.169.0.0") == Kind::GlobalUnicast);
  CHECK(kind_of("192.175.48.6") == Kind::As112);
  CHECK(kind_of("198.17.255.255") == Kind::GlobalUnicast);
  CHECK(kind_of("198.18.0.0") == Kind::Benchmarking);
  CHECK(kind_of("198.19.255.255") == Kind::Benchmarking);
  CHECK(kind_of("198.20.0.0") == Kind::GlobalUnicast);
  CHECK(kind_of("198.51.100.7") == Kind::Documentation);
  CHECK(kind_of("203.0.113.255") == Kind::Documentation);
  CHECK(kind_of("203.0.114.0") == Kind::GlobalUnicast);
  CHECK(kind_of("223.255.255.255") == Kind::GlobalUnicast);
  CHECK(kind_of("224.0.0.0") == Kind::Multicast);
  CHECK(kind_of("239.255.255.255") == Kind::Multicast);
  CHECK(kind_of("240.0.0.0") == Kind::Reserved);
  CHECK(kind_of("255.255.255.254") == Kind::Reserved);
  CHECK(kind_of("255.255.255.255") == Kind::Broadcast);
  CHECK(kind_of("8.8.8.8") == Kind::GlobalUnicast);
  CHECK(kind_of("1.1.1.1") == Kind::GlobalUnicast);
}

TEST_CASE("IPv6 special-purpose blocks", "[address]") {
  CHECK(kind_of("::") == Kind::Unspecified);
  CHECK(kind_of("::1") == Kind::Loopback);
  CHECK(kind_of("::2") == Kind::V4Compatible);
  CHECK(kind_of("::192.0.2.1") == Kind::V4Compatible);
  CHECK(kind_of("::ffff:8.8.8.8") == Kind::V4Mapped);
  CHECK(kind_of("::ffff:127.0.0.1") == Kind::V4Mapped);
  CHECK(kind_of("::1:0:0:0") == Kind::Reserved);
  CHECK(kind_of("64:ff9b::8.8.8.8") == Kind::Nat64);
  CHECK(kind_of("64:ff9b::1:0:0") == Kind::Reserved);  // outside the /96, outside 2000::/3
  CHECK(kind_of("64:ff9b:1::1") == Kind::Nat64Local);
  CHECK(kind_of("100::1") == Kind::DiscardOnly);
  CHECK(kind_of("100::ffff:ffff:ffff:ffff") == Kind::DiscardOnly);
  CHECK(kind_of("100:0:0:1::1") == Kind::DummyAddress);
  CHECK(kind_of("100:0:0:2::1") == Kind::Reserved);
  CHECK(kind_of("2001::1") == Kind::Teredo);
  CHECK(kind_of("2001:0:ffff::1") == Kind::Teredo);
  CHECK(kind_of("2001:1::1") == Kind::PcpAnycast);
  CHECK(kind_of("2001:1::2") == Kind::TurnAnycast);
  CHECK(kind_of("2001:1::3") == Kind::DnsSdSrpAnycast);
  CHECK(kind_of("2001:1::4") == Kind::IetfProtocol);
  CHECK(kind_of("2001:2::1") == Kind::Benchmarking);
  CHECK(kind_of("2001:2:1::1") == Kind::IetfProtocol);
  CHECK(kind_of("2001:3::1") == Kind::Amt);
  CHECK(kind_of("2001:4:112::1") == Kind::As112);
  CHECK(kind_of("2001:10::1") == Kind::OrchidV1);
  CHECK(kind_of("2001:1f:ffff::1") == Kind::OrchidV1);
  CHECK(kind_of("2001:20::1") == Kind::OrchidV2);
  CHECK(kind_of("2001:2f:ffff::1") == Kind::OrchidV2);
  CHECK(kind_of("2001:30::1") == Kind::DroneRemoteId);
  CHECK(kind_of("2001:1ff:ffff::1") == Kind::IetfProtocol);
  CHECK(kind_of("2001:200::1") == Kind::GlobalUnicast);  // first address after 2001::/23
  CHECK(kind_of("2001:db7:ffff::1") == Kind::GlobalUnicast);
  CHECK(kind_of("2001:db8::") == Kind::Documentation);
  CHECK(kind_of("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff") == Kind::Documentation);
  CHECK(kind_of("2001:db9::1") == Kind::GlobalUnicast);
  CHECK(kind_of("2002:c000:0201::1") == Kind::SixToFour);
  CHECK(kind_of("2620:4f:8000::1") == Kind::As112);
  CHECK(kind_of("2620:4f:8001::1") == Kind::GlobalUnicast);
  CHECK(kind_of("3ffe:ffff::1") == Kind::GlobalUnicast);
  CHECK(kind_of("3fff::1") == Kind::Documentation);
  CHECK(kind_of("3fff:fff:ffff::1") == Kind::Documentation);
  CHECK(kind_of("3fff:1000::1") == Kind::GlobalUnicast);
  CHECK(kind_of("4000::1") == Kind::Reserved);
  CHECK(kind_of("1fff:ffff::1") == Kind::Reserved);
  CHECK(kind_of("5f00::1") == Kind::Srv6Sid);
  CHECK(kind_of("fc00::1") == Kind::UniqueLocal);
  CHECK(kind_of("fd12:3456::1") == Kind::UniqueLocal);
  CHECK(kind_of("fe80::1") == Kind::LinkLocal);
  CHECK(kind_of("febf::1") == Kind::LinkLocal);
  CHECK(kind_of("fec0::1") == Kind::SiteLocal);
  CHECK(kind_of("ff02::101") == Kind::Multicast);
  CHECK(kind_of("ff0e::1") == Kind::Multicast);
  CHECK(kind_of("2a00:1450:4001::1") == Kind::GlobalUnicast);
  CHECK(kind_of("2606:4700::1111") == Kind::GlobalUnicast);
}

TEST_CASE("is_public_unicast and the loopback switch", "[address]") {
  auto pub = [](const char* t, bool allow_loopback) {
    auto a = parse(t);
    REQUIRE(a);
    return is_public_unicast(*a, allow_loopback);
  };
  CHECK(pub("8.8.8.8", false));
  CHECK(pub("2a00:1450:4001::1", false));
  CHECK_FALSE(pub("127.0.0.1", false));
  CHECK(pub("127.0.0.1", true));
  CHECK(pub("127.0.0.55", true));
  CHECK_FALSE(pub("::1", false));
  CHECK(pub("::1", true));
  // The switch allows loopback only, nothing else that is special.
  for (const char* t : {"10.1.2.3", "192.168.1.1", "100.64.0.1", "169.254.0.1", "224.0.0.1",
                        "240.0.0.1", "255.255.255.255", "0.0.0.0", "192.0.2.1", "198.18.0.1",
                        "::", "fe80::1", "fd00::1", "ff02::1", "2001:db8::1", "2002::1",
                        "2001::1", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "100::1",
                        "2001:20::1", "3fff::1", "192.31.196.1", "2001:4:112::1"}) {
    INFO(t);
    CHECK_FALSE(pub(t, false));
    CHECK_FALSE(pub(t, true));
  }
}

TEST_CASE("Address comparison, prefixes and descriptions", "[address]") {
  auto a = *parse("192.0.2.1");
  auto b = *parse("192.0.2.2");
  auto c = *parse("::ffff:192.0.2.1");
  CHECK(a < b);
  CHECK(a != c);  // different families are different addresses
  CHECK(a.in(*parse("192.0.2.0"), 24));
  CHECK_FALSE(a.in(*parse("192.0.3.0"), 24));
  CHECK(a.in(*parse("0.0.0.0"), 0));
  CHECK_FALSE(a.in(*parse("::"), 0));
  CHECK_FALSE(a.in(*parse("192.0.2.1"), 33));
  CHECK(Address::v4(0x7f000001u) == *parse("127.0.0.1"));
  for (int k = 0; k <= static_cast<int>(Kind::SiteLocal); ++k) {
    auto kind = static_cast<Kind>(k);
    CHECK(describe(kind) != "unknown");
    CHECK(kind_name(kind) != "unknown");
  }
  CHECK(kind_name(Kind::Private) == "private");
}
