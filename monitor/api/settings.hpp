// The [monitor_api] section of the shared TOML file (timepool-monitor-api), validated once at
// start (deploy/timepool.toml lists every key with its default).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/net.hpp"
#include "monitor/batch.hpp"
#include "monitor/probe_plan.hpp"
#include "monitor/shift.hpp"

namespace timepool::monitor::api {

struct ApiSettings {
  // Where monitors connect. HTTPS with tls_cert and tls_key (PEM files); plain HTTP only when
  // `plain_http` is set (local runs and tests behind nothing that crosses a network).
  net::Endpoint listen = *net::Endpoint::parse("127.0.0.1:8443");
  std::string tls_cert;
  std::string tls_key;
  bool plain_http = false;
  // Worker threads of the API's own listener, and the database connections they share.
  std::size_t workers = 4;
  std::chrono::seconds read_timeout{30};
  // The Retry-After of a 503 (the database is away): when a monitor should ask again.
  std::chrono::seconds retry_after{10};
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  // What a batch may hold (monitor/batch.hpp).
  BatchLimits limits;
  // A result counts only when the monitor's kernel said synchronized and its maximum error was
  // at most this.
  double max_clock_error_s = 0.1;
  // Schedule hints handed to monitors with their assignment: each server every interval, the
  // assignment fetched again every refresh.
  std::chrono::milliseconds interval{540000};
  std::chrono::milliseconds refresh{30000};
  // Each server's slots (monitor/probe_plan.hpp): its cycle (`interval` above, which replaces
  // plan.interval, or the slow cycle for a very low score), the minimum spacing of all monitors' probes of one server,
  // and how long a re-check keeps the normal cycle.
  PlanSettings plan;
  // The shift check (monitor/shift.hpp): every shift_check_interval, over the probe log of the
  // last shift_window; 0 s turns it off.
  ShiftSettings shift;
  std::chrono::seconds shift_window{3600};
  std::chrono::seconds shift_check_interval{300};
  // Prometheus /metrics on a listener of its own; nullopt: off.
  std::optional<net::Endpoint> metrics_listen = net::Endpoint::parse("127.0.0.1:9126");
  // The probe log keeps this many days (whole daily partitions are dropped); 0 keeps all.
  int probe_log_retention_days = 90;
};

// Reads and validates [monitor_api]; throws config::Error naming the key.
ApiSettings read_api_settings(const config::Document& doc);

}  // namespace timepool::monitor::api
