#include "web/metrics.hpp"

#include "core/prometheus.hpp"

namespace timepool::web {

std::string route_label(const std::string& pattern) {
  if (pattern.empty()) return "unmatched";
  static const std::pair<const char*, const char*> kNames[] = {
      {"([0-9]{1,18})", ":id"}, {"([a-z0-9@-]{1,63})", ":zone"}, {"([^/]{1,64})", ":address"}};
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    bool named = false;
    for (const auto& [capture, name] : kNames) {
      std::string_view c(capture);
      if (pattern.compare(i, c.size(), c) == 0) {
        out += name;
        i += c.size();
        named = true;
        break;
      }
    }
    if (named) continue;
    if (pattern[i] != '\\') out += pattern[i];
    ++i;
  }
  return out;
}

void WebMetrics::request(const std::string& route, const std::string& method, int status,
                         double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, method, status}];
  auto& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

std::string WebMetrics::render(const DbPool* pool) const {
  prometheus::TextWriter w;
  {
    std::lock_guard lock(mu_);
    w.family("timepool_web_requests_total", prometheus::Type::kCounter,
             "HTTP requests answered, by route pattern, method and status code.");
    for (const auto& [key, n] : requests_) {
      const auto& [route, method, status] = key;
      std::string code = std::to_string(status);
      w.sample("timepool_web_requests_total",
               {{"route", route}, {"method", method}, {"code", code}}, n);
    }
    w.family("timepool_web_request_duration_seconds", prometheus::Type::kHistogram,
             "Time from the request's arrival to the answer, by route pattern.");
    for (const auto& [route, h] : latency_) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.counts[i];
        std::string le = prometheus::format_value(kBuckets[i]);
        w.sample("timepool_web_request_duration_seconds_bucket", {{"route", route}, {"le", le}},
                 cumulative);
      }
      w.sample("timepool_web_request_duration_seconds_bucket", {{"route", route}, {"le", "+Inf"}},
               h.count);
      w.sample("timepool_web_request_duration_seconds_sum", {{"route", route}}, h.sum);
      w.sample("timepool_web_request_duration_seconds_count", {{"route", route}}, h.count);
    }
  }
  w.gauge("timepool_web_live_checks_in_flight",
          "Server checks (NTP probes of a server being added) running now.",
          checks_in_flight_.load(std::memory_order_relaxed));
  w.counter("timepool_web_live_checks_total", "Server checks started.",
            checks_total_.load(std::memory_order_relaxed));
  if (pool) {
    auto s = pool->stats();
    w.gauge("timepool_web_db_pool_size", "Pooled PostgreSQL connections (the most that may be open).",
            static_cast<int64_t>(s.size));
    w.gauge("timepool_web_db_pool_in_use", "Pooled connections lent to requests now.",
            static_cast<int64_t>(s.in_use));
    w.gauge("timepool_web_db_pool_waiting", "Requests waiting for a pooled connection now.",
            static_cast<int64_t>(s.waiting));
    w.counter("timepool_web_db_pool_waits_total",
              "Requests that found every pooled connection busy and waited.", s.waits);
    w.counter("timepool_web_db_pool_wait_seconds_total",
              "Time requests spent waiting for a pooled connection.", s.wait_seconds);
    w.counter("timepool_web_db_pool_connect_errors_total",
              "Failed attempts to open a pooled connection.", s.connect_errors);
  }
  return w.take();
}

}  // namespace timepool::web
