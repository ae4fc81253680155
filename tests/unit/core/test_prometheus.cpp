// core/prometheus: the text format, escaping and values; core/metrics_http: the listener.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <cmath>
#include <limits>

#include "core/metrics_http.hpp"
#include "core/prometheus.hpp"

namespace prometheus = timepool::prometheus;
using timepool::net::Endpoint;

TEST_CASE("families get HELP and TYPE once, samples follow with labels", "[prometheus]") {
  prometheus::TextWriter w;
  w.counter("x_total", "Things done.", uint64_t{18446744073709551615u});
  w.gauge("y", "A level.", 0.25);
  w.gauge("z", "Signed.", int64_t{-3});
  w.family("q_total", prometheus::Type::kCounter, "By kind.");
  w.sample("q_total", {{"kind", "a"}, {"zone", "@"}}, uint64_t{3});
  w.sample("q_total", {{"kind", "b\"c\\d\ne"}}, 4.5);
  CHECK(w.text() ==
        "# HELP x_total Things done.\n# TYPE x_total counter\nx_total 18446744073709551615\n"
        "# HELP y A level.\n# TYPE y gauge\ny 0.25\n"
        "# HELP z Signed.\n# TYPE z gauge\nz -3\n"
        "# HELP q_total By kind.\n# TYPE q_total counter\n"
        "q_total{kind=\"a\",zone=\"@\"} 3\n"
        "q_total{kind=\"b\\\"c\\\\d\\ne\"} 4.5\n");
  const std::string taken = w.take();
  CHECK(taken.size() > 10);
}

TEST_CASE("histograms are cumulative with +Inf, sum and count", "[prometheus]") {
  prometheus::TextWriter w;
  const prometheus::Bucket b[] = {{0.005, 1}, {0.1, 4}, {1, 4}};
  w.histogram("t_seconds", "Durations.", b, 6, 2.5);
  CHECK(w.text() ==
        "# HELP t_seconds Durations.\n# TYPE t_seconds histogram\n"
        "t_seconds_bucket{le=\"0.005\"} 1\nt_seconds_bucket{le=\"0.1\"} 4\n"
        "t_seconds_bucket{le=\"1\"} 4\nt_seconds_bucket{le=\"+Inf\"} 6\n"
        "t_seconds_sum 2.5\nt_seconds_count 6\n");
}

TEST_CASE("values and escapes follow the exposition format", "[prometheus]") {
  CHECK(prometheus::format_value(3) == "3");
  CHECK(prometheus::format_value(-0.5) == "-0.5");
  CHECK(prometheus::format_value(1e20) == "1e+20");
  CHECK(prometheus::format_value(std::nan("")) == "NaN");
  CHECK(prometheus::format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(prometheus::format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(prometheus::escape_help("a\\b\nc\"") == "a\\\\b\\nc\"");
  CHECK(prometheus::escape_label_value("x\"y") == "x\\\"y");
}

TEST_CASE("the metrics listener serves /metrics and nothing else", "[prometheus][http]") {
  std::atomic<int> renders{0};
  prometheus::HttpServer http([&] {
    ++renders;
    return std::string("a_total 1\n");
  });
  const uint16_t port = http.start(*Endpoint::parse("127.0.0.1:0"));
  REQUIRE(port != 0);
  CHECK(http.port() == port);
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/metrics");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "a_total 1\n");
  CHECK(r->get_header_value("Content-Type") == prometheus::kContentType);
  auto other = c.Get("/");
  REQUIRE(other);
  CHECK(other->status == 404);
  CHECK(renders == 1);
  // The same port twice: a start-up error that names the address.
  prometheus::HttpServer second([] { return std::string(); });
  try {
    second.start(Endpoint(*timepool::address::parse("127.0.0.1"), port));
    FAIL("bound twice");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "metrics: cannot listen on 127.0.0.1:" + std::to_string(port));
  }
  http.stop();
  http.stop();  // idempotent
  CHECK_FALSE(httplib::Client("127.0.0.1", port).Get("/metrics"));
}

TEST_CASE("the metrics listener cuts a client that sends nothing", "[prometheus][http]") {
  prometheus::HttpOptions o;
  o.workers = 1;
  o.read_timeout = std::chrono::seconds(1);
  prometheus::HttpServer http([] { return std::string("ok 1\n"); }, o);
  const uint16_t port = http.start(*Endpoint::parse("127.0.0.1:0"));
  // An idle connection holds the only worker until the read timeout frees it.
  auto sock = timepool::net::UniqueFd(::socket(AF_INET, SOCK_STREAM, 0));
  const auto sa = Endpoint(*timepool::address::parse("127.0.0.1"), port).to_sockaddr();
  REQUIRE(::connect(sock.get(), sa.get(), sa.len) == 0);
  const auto t0 = std::chrono::steady_clock::now();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10, 0);
  auto r = c.Get("/metrics");
  REQUIRE(r);
  CHECK(r->body == "ok 1\n");
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited >= std::chrono::milliseconds(800));
  CHECK(waited < std::chrono::seconds(5));
}
