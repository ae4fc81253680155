#include <catch2/catch.hpp>

#include "web/vendor.hpp"

using namespace timepool::web;

TEST_CASE("names to ship follow the client type", "[web][vendor]") {
  CHECK(vendor_names("acme", "ntp", "pool.test") ==
        std::vector<std::string>{"0.acme.pool.test", "1.acme.pool.test", "2.acme.pool.test",
                                 "3.acme.pool.test"});
  CHECK(vendor_names("acme", "sntp", "pool.test") == std::vector<std::string>{"acme.pool.test"});
  CHECK(vendor_names("acme", "both", "pool.test").size() == 5);
}

TEST_CASE("snippets cover four clients and use the zone's names", "[web][vendor]") {
  auto s = vendor_snippets("acme", "ntp", "pool.test");
  REQUIRE(s.size() == 4);
  CHECK(s[0].title == "chrony");
  CHECK(s[0].text.find("pool 0.acme.pool.test iburst") != std::string::npos);
  CHECK(s[0].text.find("pool 3.acme.pool.test iburst") != std::string::npos);
  CHECK(s[1].text.find("pool 2.acme.pool.test iburst") != std::string::npos);
  CHECK(s[2].text.find("NTP=0.acme.pool.test 1.acme.pool.test 2.acme.pool.test 3.acme.pool.test") !=
        std::string::npos);
  CHECK(s[3].text.find("0.acme.pool.test") != std::string::npos);  // SNTP uses a numbered name
  CHECK(s[3].text.find("DENY") != std::string::npos);
  CHECK(s[3].text.find("random") != std::string::npos);
  auto sntp = vendor_snippets("acme", "sntp", "pool.test");
  CHECK(sntp[0].text.find("pool acme.pool.test iburst") != std::string::npos);
  CHECK(sntp[3].text.find("\"acme.pool.test\"") != std::string::npos);
}

TEST_CASE("the fix for a finding fits the vendor's client type", "[web][vendor]") {
  auto sntp = finding_fixes("acme", "sntp", "weekly", "pool.test");
  REQUIRE(sntp.size() == 2);
  CHECK(sntp[0].title == "Add a random delay before each query");
  CHECK(sntp[0].code.find("sleep $(shuf -i 0-3599 -n 1) && sntp -S acme.pool.test") !=
        std::string::npos);
  CHECK(sntp[0].code.find("RandomizedDelaySec") != std::string::npos);
  CHECK(sntp[1].title == "Respect Kiss-o'-Death");
  CHECK(sntp[1].text.find("RATE") != std::string::npos);
  CHECK(sntp[1].text.find("DENY or RSTR") != std::string::npos);

  auto ntp = finding_fixes("acme", "ntp", "daily", "pool.test");
  REQUIRE(ntp.size() == 2);
  CHECK(ntp[0].title == "Run an NTP daemon instead of one-shot queries");
  CHECK(ntp[0].code.find("pool 0.acme.pool.test iburst") != std::string::npos);
  CHECK(ntp[0].text.find("ntpdate") != std::string::npos);

  auto both = finding_fixes("acme", "both", "hourly", "pool.test");
  REQUIRE(both.size() == 3);
  CHECK(both[0].text.find("up to an hour") != std::string::npos);
  CHECK(both[2].title == "Respect Kiss-o'-Death");
}
