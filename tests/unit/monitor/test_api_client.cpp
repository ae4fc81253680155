// monitor/api_client: what the monitor reads from the API's answers besides their bodies.
#include <catch2/catch.hpp>

#include "monitor/api_client.hpp"

using namespace timepool::monitor;
using namespace std::chrono_literals;

TEST_CASE("api client: Retry-After in delta-seconds is read, anything else ignored", "[api_client]") {
  CHECK(parse_retry_after("10") == 10000ms);
  CHECK(parse_retry_after(" 0 ") == 0ms);
  CHECK(parse_retry_after("3600") == 3600000ms);
  // RFC 9110 also allows an HTTP-date; the monitor API sends seconds, so a date counts as none.
  CHECK_FALSE(parse_retry_after("Fri, 31 Dec 1999 23:59:59 GMT"));
  for (const char* bad : {"", "-5", "1.5", "10s", "9999999999", "x"}) {
    INFO(bad);
    CHECK_FALSE(parse_retry_after(bad));
  }
}
