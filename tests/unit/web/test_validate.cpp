#include <catch2/catch.hpp>

#include "web/probe.hpp"
#include "web/validate.hpp"

using namespace timepool::web;

TEST_CASE("netspeed must be one of the allowed list", "[web][validate]") {
  for (int n : kNetspeeds) CHECK(parse_netspeed(std::to_string(n)) == n);
  for (const char* bad : {"", "1", "511", "1501", "-1500", "1500.0", " 1500", "abc", "3000001",
                          "99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_netspeed(bad));
  }
  CHECK(netspeed_label(0) == "0 (monitoring only)");
  CHECK(netspeed_label(512) == "512 kbit/s");
  CHECK(netspeed_label(1500) == "1.5 Mbit/s");
  CHECK(netspeed_label(25000) == "25 Mbit/s");
  CHECK(netspeed_label(1500000) == "1.5 Gbit/s");
  CHECK(netspeed_label(3000000) == "3 Gbit/s");
}

TEST_CASE("vendor names", "[web][validate]") {
  CHECK(check_vendor_name("acme").empty());
  CHECK(check_vendor_name("acme-devices-2").empty());
  CHECK(check_vendor_name(std::string(40, 'a')).empty());
  CHECK(check_vendor_name("abc").find("too short") != std::string::npos);
  CHECK(check_vendor_name("de").find("too short") != std::string::npos);  // country codes
  CHECK(check_vendor_name(std::string(41, 'a')).find("too long") != std::string::npos);
  for (const char* bad : {"Acme", "ac_me", "ac.me", "ac me", "acmé", "acme!", "<scr"}) {
    INFO(bad);
    CHECK(check_vendor_name(bad).find("lower-case") != std::string::npos);
  }
  CHECK(check_vendor_name("-acme").find("start and end") != std::string::npos);
  CHECK(check_vendor_name("acme-").find("start and end") != std::string::npos);
  for (const char* reserved : {"pool", "time", "sntp", "root", "vendor", "europe", "north-america",
                               "south-america", "oceania", "africa", "asia"}) {
    INFO(reserved);
    CHECK(is_reserved_vendor_name(reserved));
    CHECK(check_vendor_name(reserved).find("reserved") != std::string::npos);
  }
}

TEST_CASE("emails and passwords", "[web][validate]") {
  CHECK(normalize_email(" Ann@Example.ORG ") == std::optional<std::string>("ann@example.org"));
  for (const char* bad : {"", "ann", "@example.org", "ann@", "a@b@c", "a b@c.d", "<a>@b.c",
                          "a\"@b.c"}) {
    INFO(bad);
    CHECK_FALSE(normalize_email(bad));
  }
  CHECK_FALSE(normalize_email(std::string(250, 'a') + "@b.cd"));
  CHECK_FALSE(check_password("123456789").empty());
  CHECK(check_password("1234567890").empty());
  CHECK_FALSE(check_password(std::string(201, 'x')).empty());
}

TEST_CASE("parse_int is strict", "[web][validate]") {
  CHECK(parse_int("42") == 42);
  CHECK(parse_int("-7") == -7);
  CHECK_FALSE(parse_int("4 2"));
  CHECK_FALSE(parse_int("42x"));
  CHECK_FALSE(parse_int(""));
  CHECK_FALSE(parse_int("+5"));
  CHECK_FALSE(parse_int("99999999999999999999"));
}

TEST_CASE("login delays: free failures, then doubling up to the cap", "[web][validate]") {
  // 2 free failures, 1 s, a 900 s cap (a 15-minute window).
  CHECK(login_delay_seconds(0, 2, 1, 900) == 0);
  CHECK(login_delay_seconds(1, 2, 1, 900) == 0);
  CHECK(login_delay_seconds(2, 2, 1, 900) == 1);
  CHECK(login_delay_seconds(3, 2, 1, 900) == 2);
  CHECK(login_delay_seconds(4, 2, 1, 900) == 4);
  CHECK(login_delay_seconds(11, 2, 1, 900) == 512);
  CHECK(login_delay_seconds(12, 2, 1, 900) == 900);
  CHECK(login_delay_seconds(1000000, 2, 1, 900) == 900);
  // No free failures: the first failure already delays, no failure never does.
  CHECK(login_delay_seconds(0, 0, 3, 900) == 0);
  CHECK(login_delay_seconds(1, 0, 3, 900) == 6);
  // Delays off; a base above the cap is held at the cap.
  CHECK(login_delay_seconds(50, 2, 0, 900) == 0);
  CHECK(login_delay_seconds(2, 2, 3600, 900) == 900);
}

TEST_CASE("the probe verdict refuses no answer and strata 0, 16, above 5", "[web][probe]") {
  ProbeReport ok;
  ok.answered = true;
  for (int s = 1; s <= 5; ++s) {
    ok.stratum = s;
    CHECK(judge_probe(ok).empty());
  }
  for (int s : {0, 6, 8, 15, 16}) {
    INFO(s);
    ok.stratum = s;
    CHECK_FALSE(judge_probe(ok).empty());
  }
  ProbeReport none;
  none.error = "timeout";
  CHECK(judge_probe(none).find("did not answer") != std::string::npos);
  none.error = "kod DENY";
  CHECK(judge_probe(none).find("kod DENY") != std::string::npos);
}
