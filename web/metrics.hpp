// timepool-web's Prometheus metrics, served on their own listener (web.metrics_listen, like
// dns.metrics_listen) by core/metrics_http:
//   timepool_web_requests_total{route,method,code}        requests answered (500s from the
//                                                         exception handler included)
//   timepool_web_request_duration_seconds{route}          latency histogram
//   timepool_web_live_checks_in_flight                    server checks (NTP probes) running
//   timepool_web_live_checks_total                        server checks made
//   timepool_web_db_pool_*                                waits for a pooled connection
//   timepool_web_mail_outbox_*                            the mail queue (web/outbox_gauge.hpp)
//
// `route` is the route table's pattern with its captures named (/servers/:id), or "unmatched",
// so the label set stays as small as the route table whatever paths clients send.
// Thread-safe: every method may be called from any worker thread; render() from the
// metrics listener's thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "web/db_pool.hpp"

namespace timepool::web {

class WebMetrics {
 public:
  // Histogram upper bounds, seconds.
  static constexpr std::array<double, 11> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10};

  void request(const std::string& route, const std::string& method, int status, double seconds);

  // A live check (the NTP probe of a server being added) in progress while the guard lives.
  class CheckGuard {
   public:
    explicit CheckGuard(WebMetrics& m) : m_(m) {
      m_.checks_in_flight_.fetch_add(1, std::memory_order_relaxed);
      m_.checks_total_.fetch_add(1, std::memory_order_relaxed);
    }
    ~CheckGuard() { m_.checks_in_flight_.fetch_sub(1, std::memory_order_relaxed); }
    CheckGuard(const CheckGuard&) = delete;
    CheckGuard& operator=(const CheckGuard&) = delete;

   private:
    WebMetrics& m_;
  };

  // The page; `pool` may be null.
  std::string render(const DbPool* pool) const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::atomic<int64_t> checks_in_flight_{0};
  std::atomic<uint64_t> checks_total_{0};
};

// "/servers/([0-9]{1,18})/netspeed" -> "/servers/:id/netspeed"; backslashes removed.
std::string route_label(const std::string& pattern);

}  // namespace timepool::web
