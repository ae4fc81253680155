#include <catch2/catch.hpp>

#include "web/metrics.hpp"

using namespace timepool::web;

TEST_CASE("route labels name the captures", "[web][metrics]") {
  CHECK(route_label("/servers/([0-9]{1,18})/netspeed") == "/servers/:id/netspeed");
  CHECK(route_label("/zone/([a-z0-9@-]{1,63})") == "/zone/:zone");
  CHECK(route_label("/scores/([^/]{1,64})/log") == "/scores/:address/log");
  CHECK(route_label("/static/style\\.css") == "/static/style.css");
  CHECK(route_label("") == "unmatched");
}

TEST_CASE("requests are counted by route, method and code, with a latency histogram",
          "[web][metrics]") {
  WebMetrics m;
  m.request("/zones", "GET", 200, 0.003);
  m.request("/zones", "GET", 200, 0.2);
  m.request("/zones", "GET", 500, 20);
  {
    WebMetrics::CheckGuard running(m);
    auto page = m.render(nullptr);
    CHECK(page.find("timepool_web_live_checks_in_flight 1\n") != std::string::npos);
  }
  auto page = m.render(nullptr);
  CHECK(page.find("timepool_web_requests_total{route=\"/zones\",method=\"GET\",code=\"200\"} 2\n") !=
        std::string::npos);
  CHECK(page.find("timepool_web_requests_total{route=\"/zones\",method=\"GET\",code=\"500\"} 1\n") !=
        std::string::npos);
  CHECK(page.find("timepool_web_request_duration_seconds_bucket{route=\"/zones\",le=\"0.005\"} 1\n") !=
        std::string::npos);
  CHECK(page.find("timepool_web_request_duration_seconds_bucket{route=\"/zones\",le=\"0.25\"} 2\n") !=
        std::string::npos);
  CHECK(page.find("timepool_web_request_duration_seconds_bucket{route=\"/zones\",le=\"10\"} 2\n") !=
        std::string::npos);
  CHECK(page.find("timepool_web_request_duration_seconds_bucket{route=\"/zones\",le=\"+Inf\"} 3\n") !=
        std::string::npos);
  CHECK(page.find("timepool_web_request_duration_seconds_count{route=\"/zones\"} 3\n") !=
        std::string::npos);
  CHECK(page.find("timepool_web_live_checks_in_flight 0\n") != std::string::npos);
  CHECK(page.find("timepool_web_live_checks_total 1\n") != std::string::npos);
  CHECK(page.find("# TYPE timepool_web_request_duration_seconds histogram") != std::string::npos);
}
