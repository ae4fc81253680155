#include "monitor/api/settings.hpp"

#include <unistd.h>

#include <filesystem>

namespace timepool::monitor::api {

namespace {

std::optional<net::Endpoint> endpoint(const config::Document& doc, const std::string& key,
                                      const std::string& text, bool may_be_off) {
  if (text.empty() && may_be_off) return std::nullopt;
  auto e = net::Endpoint::parse(text);
  if (!e) {
    throw config::Error(doc.origin() + ": monitor_api." + key + ": '" + text +
                        "' is not ADDRESS:PORT or [IPV6]:PORT" +
                        (may_be_off ? " (or \"\" to turn it off)" : ""));
  }
  return e;
}

// Checked without opening it (a FIFO would block).
void readable(const config::Document& doc, const std::string& key, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || ::access(path.c_str(), R_OK) != 0) throw config::Error(doc.origin() + ": monitor_api." + key + ": cannot read " + path);
}

}  // namespace

ApiSettings read_api_settings(const config::Document& doc) {
  auto s = doc.section("monitor_api");
  ApiSettings r;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  r.listen = *endpoint(doc, "listen", s.get_string("listen", "127.0.0.1:8443"), false);
  r.tls_cert = s.get_string("tls_cert", "");
  r.tls_key = s.get_string("tls_key", "");
  r.plain_http = s.get_bool("plain_http", false);
  if (r.plain_http) {
    if (!r.tls_cert.empty() || !r.tls_key.empty()) {
      throw config::Error(doc.origin() +
                          ": monitor_api.plain_http: set together with tls_cert/tls_key; choose one");
    }
  } else {
    if (r.tls_cert.empty() || r.tls_key.empty()) {
      throw config::Error(doc.origin() +
                          ": monitor_api.tls_cert and tls_key: both are needed for HTTPS (or set "
                          "plain_http = true for a local run)");
    }
    readable(doc, "tls_cert", r.tls_cert);
    readable(doc, "tls_key", r.tls_key);
  }
  r.workers = static_cast<std::size_t>(s.get_int("workers", 4, 1, 256));
  r.read_timeout = seconds(s.get_int("read_timeout_s", 30, 1, 600));
  r.retry_after = seconds(s.get_int("retry_after_s", 10, 1, 3600));
  r.max_body_bytes = static_cast<std::size_t>(
      s.get_int("max_body_bytes", 8 * 1024 * 1024, 1024, 256 * 1024 * 1024));
  r.limits.max_probes = static_cast<std::size_t>(s.get_int("max_results", 5000, 1, 100000));
  r.limits.max_future = seconds(s.get_int("max_future_s", 60, 0, 3600));
  r.limits.max_age = seconds(s.get_int("max_age_s", 86400, 60, 30 * 86400));
  r.max_clock_error_s = s.get_double("max_clock_error_s", 0.1, 0.000001, 16);
  r.interval = milliseconds(s.get_int("interval_ms", 540000, 100, 86400000));
  r.refresh = milliseconds(s.get_int("refresh_ms", 30000, 100, 3600000));
  r.plan.slow_interval = milliseconds(s.get_int("slow_interval_ms", 7200000, 100, 86400000));
  r.plan.slow_below_score = s.get_double("slow_below_score", -40, -1000, 20);
  r.plan.min_spacing = milliseconds(s.get_int("min_spacing_ms", 60000, 0, 86400000));
  r.plan.recheck_window = milliseconds(s.get_int("recheck_window_ms", 3600000, 0, 86400000));
  r.shift.threshold_s = s.get_double("shift_threshold_ms", 25, 0.001, 100000) / 1000;
  r.shift.min_servers = static_cast<int>(s.get_int("shift_min_servers", 3, 1, 1000000));
  r.shift_window = seconds(s.get_int("shift_window_s", 3600, 60, 7 * 86400));
  r.shift_check_interval = seconds(s.get_int("shift_check_interval_s", 300, 0, 86400));
  r.metrics_listen = endpoint(doc, "metrics_listen", s.get_string("metrics_listen", "127.0.0.1:9126"), true);
  r.probe_log_retention_days =
      static_cast<int>(s.get_int("probe_log_retention_days", 90, 0, 36500));
  return r;
}

}  // namespace timepool::monitor::api
