// core/prometheus: the text format, escaping and values; core/metrics_http: the listener.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "core/address.hpp"
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

namespace {

// A connected TCP client of 127.0.0.1:port.
timepool::net::UniqueFd connect_to(uint16_t port) {
  auto sock = timepool::net::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const auto sa = Endpoint(*timepool::address::parse("127.0.0.1"), port).to_sockaddr();
  REQUIRE(::connect(sock.get(), sa.get(), sa.len) == 0);
  return sock;
}

// Whether the server closed `fd` within `limit` (reads until EOF or error).
bool closed_within(int fd, std::chrono::milliseconds limit) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(limit.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(limit.count() % 1000 * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[512];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

}  // namespace

TEST_CASE("the metrics listener cuts a client that does not finish its request in time",
          "[prometheus][http]") {
  prometheus::HttpOptions o;
  o.request_deadline = std::chrono::milliseconds(1000);
  prometheus::HttpServer http([] { return std::string("ok 1\n"); }, o);
  const uint16_t port = http.start(*Endpoint::parse("127.0.0.1:0"));
  auto idle = connect_to(port);
  auto trickle = connect_to(port);
  const auto t0 = std::chrono::steady_clock::now();
  // One header line every 300 ms: each read is quick, the whole request never ends.
  std::thread writer([&] {
    const std::string lines[] = {"GET /metrics HTTP/1.1\r\n", "A: 1\r\n", "B: 2\r\n", "C: 3\r\n",
                                 "D: 4\r\n", "E: 5\r\n", "F: 6\r\n"};
    for (const auto& l : lines) {
      if (::send(trickle.get(), l.data(), l.size(), MSG_NOSIGNAL) < 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  CHECK(closed_within(idle.get(), std::chrono::milliseconds(3000)));
  CHECK(closed_within(trickle.get(), std::chrono::milliseconds(3000)));
  writer.join();
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited >= std::chrono::milliseconds(800));
  CHECK(waited < std::chrono::milliseconds(2500));
}

TEST_CASE("the metrics listener keeps answering with slow clients connected",
          "[prometheus][http]") {
  prometheus::HttpServer http([] { return std::string("ok 1\n"); });
  const uint16_t port = http.start(*Endpoint::parse("127.0.0.1:0"));
  // Many clients that send a header line every second and never finish, and as many that
  // send nothing at all: more than the listener's connection limit.
  constexpr int kSlow = 100;
  std::vector<timepool::net::UniqueFd> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(connect_to(port));
    const std::string line = "GET /metrics HTTP/1.1\r\n";
    if (i % 2 == 0) ::send(slow.back().get(), line.data(), line.size(), MSG_NOSIGNAL);
  }
  std::atomic<bool> done{false};
  std::thread writer([&] {
    while (!done) {
      for (int i = 0; i < kSlow; i += 2) ::send(slow[i].get(), "X: y\r\n", 6, MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  for (int k = 0; k < 5; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(5, 0);
    auto r = c.Get("/metrics");
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(r);
    if (r) {
      CHECK(r->status == 200);
      CHECK(r->body == "ok 1\n");
    }
    CHECK(took < std::chrono::milliseconds(500));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  done = true;
  writer.join();
}
